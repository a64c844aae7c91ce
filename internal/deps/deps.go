//go:build tools

// Package deps pins the third-party modules the project builds on, so go.mod
// lists them from the first commit and parallel work never races on go get.
package deps

import (
	_ "github.com/andybalholm/brotli"
	_ "github.com/chromedp/chromedp"
	_ "github.com/maxence-charriere/go-app/v9/pkg/app"
	_ "github.com/nlpodyssey/gopickle/pytorch"
	_ "github.com/schollz/progressbar/v3"
	_ "golang.org/x/image/webp"
	_ "gonum.org/v1/plot"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
)
