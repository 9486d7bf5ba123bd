package main

import "errors"

var (
	// ErrNotLoopback is a target whose host is not 127.0.0.1: the harness
	// sends traffic to this machine only.
	ErrNotLoopback = errors.New("target host is not 127.0.0.1")
	// ErrNoReplies is a load run in which no request succeeded.
	ErrNoReplies = errors.New("no successful replies")
	// ErrNotReady is a server that did not answer before its start-up deadline.
	ErrNotReady = errors.New("server not ready")
	// ErrNoField is a /proc status file without the field asked for.
	ErrNoField = errors.New("field not found")
	// ErrWrkOutput is wrk output the harness cannot read.
	ErrWrkOutput = errors.New("unexpected wrk output")
)
