// Command app is the vggo browser client (GOOS=js GOARCH=wasm, built to
// web/static/app.wasm by scripts/build-wasm.sh): it registers the pages of
// package ui and hands control to go-app. Built for any other target it does
// nothing; the server uses package ui directly.
package main

import (
	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/wasm/ui"
)

func main() {
	ui.Routes()
	app.RunWhenOnBrowser()
}
