package tbranch

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/rootio/rfile"
	"go-hep.org/x/hep/groot/rbytes"
)

// TestRecoveredPanicOrigin: a Go runtime error recovered from groot reads
// as the corruption it is; one raised in hepsql's own code as a bug.
func TestRecoveredPanicOrigin(t *testing.T) {
	recovered := func(f func()) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = recoveredError(rfile.ErrCorruptTree, r)
			}
		}()
		f()
		return nil
	}
	err := recovered(func() { rbytes.NewRBuffer(nil, nil, 0, nil).ReadI32() })
	if err == nil || !errors.Is(err, rfile.ErrCorruptTree) || !strings.Contains(err.Error(), "corrupt tree record (groot: runtime error") {
		t.Errorf("groot's panic: %v", err)
	}
	err = recovered(func() {
		var s []int
		_ = s[len(os.Args)+3]
	})
	if err == nil || errors.Is(err, rfile.ErrCorruptFile) || !strings.Contains(err.Error(), "rootscan bug") {
		t.Errorf("our panic: %v", err)
	}
}
