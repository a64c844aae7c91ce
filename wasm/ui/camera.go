package ui

import (
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// startCamera opens the camera with getUserMedia; where that is missing or
// refused, the "Take a photo" file input (capture attribute) remains.
func (c *Classifier) startCamera(ctx app.Context, e app.Event) {
	devices := app.Window().Get("navigator").Get("mediaDevices")
	if !devices.Truthy() || !devices.Get("getUserMedia").Truthy() {
		c.notice = "This browser gives no camera access here; use “Take a photo” instead."
		return
	}
	constraints := map[string]any{"video": map[string]any{"facingMode": "environment"}, "audio": false}
	awaitPromise(ctx, devices.Call("getUserMedia", constraints), func(ctx app.Context, stream app.Value) {
		c.cameraStream = stream
		c.cameraOn = true
		ctx.Defer(func(ctx app.Context) {
			if v := app.Window().GetElementByID("camera-video"); v.Truthy() {
				v.Set("srcObject", stream)
			}
		})
	}, func(ctx app.Context, msg string) {
		c.notice = "Camera unavailable (" + msg + "); use “Take a photo” instead."
	})
}

// capture grabs the current video frame as a PNG (lossless, so the worker
// sees exactly these pixels) and classifies it.
func (c *Classifier) capture(ctx app.Context, e app.Event) {
	video := app.Window().GetElementByID("camera-video")
	w, h := video.Get("videoWidth").Int(), video.Get("videoHeight").Int()
	if w == 0 || h == 0 {
		c.notice = "The camera has no picture yet."
		return
	}
	canvas := app.Window().Get("document").Call("createElement", "canvas")
	canvas.Set("width", w)
	canvas.Set("height", h)
	canvas.Call("getContext", "2d").Call("drawImage", video, 0, 0, w, h)
	var done app.Func
	done = app.FuncOf(func(this app.Value, args []app.Value) any {
		blob := args[0]
		ctx.Dispatch(func(ctx app.Context) {
			if !blob.Truthy() {
				c.notice = "Capturing the camera picture failed."
				return
			}
			c.classifyBlob(blob, "camera-"+time.Now().Format("150405")+".png")
		})
		done.Release()
		return nil
	})
	canvas.Call("toBlob", done, "image/png")
}

func (c *Classifier) closeCamera(ctx app.Context, e app.Event) { c.stopCamera() }

func (c *Classifier) stopCamera() {
	if c.cameraStream != nil && c.cameraStream.Truthy() {
		tracks := c.cameraStream.Call("getTracks")
		for i := 0; i < tracks.Length(); i++ {
			tracks.Index(i).Call("stop")
		}
	}
	c.cameraStream = nil
	c.cameraOn = false
}
