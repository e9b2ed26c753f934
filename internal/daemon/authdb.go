package daemon

import (
	"context"
	"errors"

	"github.com/jcmfa/jcmfa/internal/authdb"
	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/store"
)

// watchAuthDB starts the drift watch over the macOS login-window rule, if
// this OS has one (authdb.Default), and returns it with a stop that waits
// for its last check to end.
func watchAuthDB(ctx context.Context, cfg Config, st *store.Store, eng *engine.Engine) (*authdb.Watcher, func()) {
	sys := cfg.AuthDB
	if sys == nil {
		sys = authdb.Default()
	}
	if sys == nil {
		return nil, func() {}
	}
	w := &authdb.Watcher{
		Sys: sys,
		// Read at every check, so settings --authdb-drift (or a fleet
		// bundle) takes effect at the next one.
		Mode: func() (authdb.Mode, error) {
			s, err := eng.Settings()
			if err != nil {
				return authdb.Repair, err
			}
			return authdb.ParseMode(s.AuthDBDrift)
		},
		// The daemon's own event, as the fleet agent writes its own.
		Audit: func(ev store.Event) error {
			return st.Update(func(tx *store.Tx) error { return tx.AppendEvent(&ev) })
		},
		Log:      cfg.Log,
		Interval: cfg.AuthDBInterval,
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(wctx)
	}()
	return w, func() { cancel(); <-done }
}

// errNoAuthDB answers authdb.status where there is no rule to watch.
var errNoAuthDB = errors.New("no login-window rule is watched here (macOS only, daemon running as root)")

func cmdAuthDBStatus(h *Handler, _ engine.Actor, _ fields, out *ipc.Reply) error {
	if h.AuthDB == nil {
		return errNoAuthDB
	}
	return out.Data(h.AuthDB.Status())
}
