// Package xrootd holds the SQL-level tests of root:// sources: read_root,
// root_trees and root_branches over Debian's xrootd server (internal/xrdtest)
// compared with the local reads of the same files, and the faults, stalls
// and cancellations a query must survive without leaking a goroutine or a
// socket. The client and the backend are rootio/xrootd, which a program
// imports to register root:// and xroot:// (engine does).
package xrootd
