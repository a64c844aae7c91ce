package ui

import (
	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// The teach page keeps its classes and images in IndexedDB as they are
// added, so a closed tab or a reload loses nothing but a training run.
const (
	teachDBName        = "vggo-teach"
	teachDBVersion     = 1
	teachClassesStore  = "classes" // {id, name, order}
	teachImagesStore   = "images"  // {id, classId, name, blob}
	localModelsKey     = "vggo.local-models"
	quotaExceededError = "QuotaExceededError"
)

// teachStore is the open IndexedDB database (db undefined when IndexedDB
// is missing: then nothing persists, and the page says so).
type teachStore struct {
	db app.Value
}

// openTeachStore opens (creating on first use) the database and calls ok,
// or fail with why not.
func openTeachStore(ctx app.Context, ok func(app.Context, *teachStore), fail func(app.Context, string)) {
	idb := app.Window().Get("indexedDB")
	if !idb.Truthy() {
		fail(ctx, "This browser has no IndexedDB: classes and images will not be kept after this tab closes.")
		return
	}
	req := idb.Call("open", teachDBName, teachDBVersion)
	var upgrade, success, failure app.Func
	release := func() { upgrade.Release(); success.Release(); failure.Release() }
	upgrade = app.FuncOf(func(this app.Value, args []app.Value) any {
		db := req.Get("result")
		if !db.Get("objectStoreNames").Call("contains", teachClassesStore).Bool() {
			db.Call("createObjectStore", teachClassesStore, map[string]any{"keyPath": "id"})
		}
		if !db.Get("objectStoreNames").Call("contains", teachImagesStore).Bool() {
			db.Call("createObjectStore", teachImagesStore, map[string]any{"keyPath": "id"})
		}
		return nil
	})
	success = app.FuncOf(func(this app.Value, args []app.Value) any {
		db := req.Get("result")
		ctx.Dispatch(func(ctx app.Context) { ok(ctx, &teachStore{db: db}) })
		release()
		return nil
	})
	failure = app.FuncOf(func(this app.Value, args []app.Value) any {
		msg := "cannot open the browser's storage (IndexedDB): " + idbError(req)
		ctx.Dispatch(func(ctx app.Context) { fail(ctx, msg) })
		release()
		return nil
	})
	req.Set("onupgradeneeded", upgrade)
	req.Set("onsuccess", success)
	req.Set("onerror", failure)
}

// idbError words a failed request's or transaction's error.
func idbError(v app.Value) string {
	e := v.Get("error")
	if !e.Truthy() {
		return "unknown error"
	}
	if e.Get("name").String() == quotaExceededError {
		return "the browser's storage for this site is full"
	}
	return e.Get("name").String() + ": " + e.Get("message").String()
}

// write runs one read-write transaction on store with do, then calls done
// with "" or the reason it failed (a full quota included).
func (s *teachStore) write(ctx app.Context, store string, do func(os app.Value), done func(app.Context, string)) {
	if s == nil || !s.db.Truthy() {
		done(ctx, "")
		return
	}
	var tx app.Value
	func() {
		defer func() {
			if r := recover(); r != nil {
				tx = app.Null()
				done(ctx, "the browser refused to store: "+toString(r))
			}
		}()
		tx = s.db.Call("transaction", store, "readwrite")
		do(tx.Call("objectStore", store))
	}()
	if !tx.Truthy() {
		return
	}
	var complete, abort app.Func
	release := func() { complete.Release(); abort.Release() }
	complete = app.FuncOf(func(this app.Value, args []app.Value) any {
		ctx.Dispatch(func(ctx app.Context) { done(ctx, "") })
		release()
		return nil
	})
	abort = app.FuncOf(func(this app.Value, args []app.Value) any {
		msg := idbError(tx)
		ctx.Dispatch(func(ctx app.Context) { done(ctx, msg) })
		release()
		return nil
	})
	tx.Set("oncomplete", complete)
	tx.Set("onabort", abort)
}

// getAll hands every record of store to ok (an empty array without
// IndexedDB or on failure).
func (s *teachStore) getAll(ctx app.Context, store string, ok func(app.Context, app.Value)) {
	if s == nil || !s.db.Truthy() {
		ok(ctx, app.Window().Get("Array").New())
		return
	}
	req := s.db.Call("transaction", store, "readonly").Call("objectStore", store).Call("getAll")
	var success, failure app.Func
	release := func() { success.Release(); failure.Release() }
	success = app.FuncOf(func(this app.Value, args []app.Value) any {
		v := req.Get("result")
		ctx.Dispatch(func(ctx app.Context) { ok(ctx, v) })
		release()
		return nil
	})
	failure = app.FuncOf(func(this app.Value, args []app.Value) any {
		ctx.Dispatch(func(ctx app.Context) { ok(ctx, app.Window().Get("Array").New()) })
		release()
		return nil
	})
	req.Set("onsuccess", success)
	req.Set("onerror", failure)
}

func toString(v any) string {
	if e, ok := v.(error); ok {
		return e.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	return "unknown error"
}
