package ui

import (
	"fmt"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/model/rank"
	"vggo/wasm/protocol"
)

// liveCamera is the camera view's state. The stream is classified
// continuously, one frame at a time: the next frame is grabbed when the
// worker has answered the last, so frames never queue up behind a slow
// device, and the frame rate shown is the rate the model really keeps up.
// Classification pauses while the tab is hidden.
type liveCamera struct {
	on      bool
	stream  app.Value
	paused  bool              // the tab is hidden
	pending int               // worker request id of the frame in flight; 0 none
	waiting bool              // a retry of the next frame is scheduled
	top     []rank.Prediction // the last frame's classes, best first
	frames  int               // frames classified since the camera started
	times   []float64         // performance.now() of the last results
	err     string            // why the last frame failed

	removeVisibility func()
}

// liveRateWindow is how many recent results the frame rate is averaged over.
const liveRateWindow = 10

// rate is the frame rate over the last results (0 before two).
func (l *liveCamera) rate() float64 {
	n := len(l.times)
	if n < 2 || l.times[n-1] <= l.times[0] {
		return 0
	}
	return float64(n-1) * 1000 / (l.times[n-1] - l.times[0])
}

// status is the line above the live bars.
func (l *liveCamera) status() string {
	switch {
	case l.paused:
		return "Paused while this tab is hidden."
	case l.rate() > 0:
		return fmt.Sprintf("Live: %.1f frames/s classified", l.rate())
	}
	return "Live: starting…"
}

// stop closes the stream and forgets the view.
func (l *liveCamera) stop() {
	if l.stream != nil && l.stream.Truthy() {
		tracks := l.stream.Call("getTracks")
		for i := 0; i < tracks.Length(); i++ {
			tracks.Index(i).Call("stop")
		}
	}
	if l.removeVisibility != nil {
		l.removeVisibility()
	}
	*l = liveCamera{}
}

// startCamera opens the camera with getUserMedia and starts classifying
// it; where that is missing or refused, the file input with the capture
// attribute ("Take a photo", phones) remains.
func (c *Classifier) startCamera(ctx app.Context, e app.Event) {
	devices := app.Window().Get("navigator").Get("mediaDevices")
	if !devices.Truthy() || !devices.Get("getUserMedia").Truthy() {
		c.notice = "This browser gives no camera access here; choose a photo instead."
		return
	}
	constraints := map[string]any{"video": map[string]any{"facingMode": "environment"}, "audio": false}
	awaitPromise(ctx, devices.Call("getUserMedia", constraints), func(ctx app.Context, stream app.Value) {
		c.live.stop()
		c.live.on, c.live.stream = true, stream
		c.live.paused = app.Window().Get("document").Get("hidden").Bool()
		c.live.removeVisibility = app.Window().AddEventListener("visibilitychange", c.onVisibility)
		ctx.Defer(func(ctx app.Context) {
			if v := app.Window().GetElementByID("camera-video"); v.Truthy() {
				v.Set("srcObject", stream)
			}
			c.nextLiveFrame(ctx)
		})
	}, func(ctx app.Context, msg string) {
		c.notice = "Camera unavailable (" + msg + "); choose a photo instead."
	})
}

func (c *Classifier) onVisibility(ctx app.Context, e app.Event) {
	c.live.paused = app.Window().Get("document").Get("hidden").Bool()
	c.nextLiveFrame(ctx)
}

// nextLiveFrame sends the camera's current frame to the worker, unless one
// is in flight or the view is paused or closed. Before the model or the
// picture is ready it tries again shortly.
func (c *Classifier) nextLiveFrame(ctx app.Context) {
	l := &c.live
	if !l.on || l.paused || l.pending != 0 || l.waiting {
		return
	}
	if c.session.state != modelReady {
		c.retryLiveFrame(ctx, 300*time.Millisecond)
		return
	}
	c.grabFrame(ctx, func(ctx app.Context, blob app.Value) {
		if !c.live.on || c.live.pending != 0 {
			return
		}
		c.live.pending = c.session.classify(blob, "camera frame")
	}, func(ctx app.Context) { c.retryLiveFrame(ctx, 200*time.Millisecond) })
}

func (c *Classifier) retryLiveFrame(ctx app.Context, d time.Duration) {
	c.live.waiting = true
	ctx.After(d, func(ctx app.Context) {
		c.live.waiting = false
		c.nextLiveFrame(ctx)
	})
}

// liveReply takes the worker's answer to the frame in flight, and reports
// whether r was one.
func (c *Classifier) liveReply(ctx app.Context, r workerReply) bool {
	l := &c.live
	if r.ID == 0 || r.ID != l.pending {
		return false
	}
	l.pending = 0
	switch r.Kind {
	case protocol.KindResult:
		var res protocol.Result
		if err := r.decode(&res); err != nil {
			l.err = "bad reply from the worker: " + err.Error()
			break
		}
		l.top, l.err = res.Top, ""
		l.frames++
		l.times = append(l.times, app.Window().Get("performance").Call("now").Float())
		if len(l.times) > liveRateWindow {
			l.times = l.times[1:]
		}
	case protocol.KindError:
		var er protocol.ErrorReply
		r.decode(&er)
		l.err = er.Message
	}
	c.nextLiveFrame(ctx)
	return true
}

// capture keeps the current frame: it goes to the results like a photo.
func (c *Classifier) capture(ctx app.Context, e app.Event) {
	c.grabFrame(ctx, func(ctx app.Context, blob app.Value) {
		c.classifyBlob(ctx, blob, "camera-"+time.Now().Format("150405")+".png")
	}, func(ctx app.Context) { c.notice = "The camera has no picture yet." })
}

// grabFrame hands the video's current frame to ok as a PNG blob (lossless,
// so the worker sees exactly these pixels), or calls none when there is no
// picture (yet).
func (c *Classifier) grabFrame(ctx app.Context, ok func(app.Context, app.Value), none func(app.Context)) {
	grabVideoFrame(ctx, "camera-video", ok, none)
}

// grabVideoFrame is grabFrame for the <video> with the given id (the teach
// page has its own).
func grabVideoFrame(ctx app.Context, videoID string, ok func(app.Context, app.Value), none func(app.Context)) {
	video := app.Window().GetElementByID(videoID)
	if !video.Truthy() || video.Get("videoWidth").Int() == 0 || video.Get("videoHeight").Int() == 0 {
		none(ctx)
		return
	}
	w, h := video.Get("videoWidth").Int(), video.Get("videoHeight").Int()
	canvas := app.Window().Get("document").Call("createElement", "canvas")
	canvas.Set("width", w)
	canvas.Set("height", h)
	canvas.Call("getContext", "2d").Call("drawImage", video, 0, 0, w, h)
	var done app.Func
	done = app.FuncOf(func(this app.Value, args []app.Value) any {
		blob := args[0]
		ctx.Dispatch(func(ctx app.Context) {
			if blob.Truthy() {
				ok(ctx, blob)
			} else {
				none(ctx)
			}
		})
		done.Release()
		return nil
	})
	canvas.Call("toBlob", done, "image/png")
}

func (c *Classifier) closeCamera(ctx app.Context, e app.Event) { c.live.stop() }

// renderCamera draws the live view: the video beside the updating bars.
func (c *Classifier) renderCamera() app.UI {
	l := &c.live
	state := "running"
	if l.paused {
		state = "paused"
	}
	class := ""
	if len(l.top) > 0 {
		class = l.top[0].Class
	}
	return app.Div().Class("camera").Body(
		app.Div().Class("camera-view").Body(
			app.Video().ID("camera-video").AutoPlay(true).Attr("playsinline", true).Muted(true).
				Aria("label", "Camera preview"),
			app.Div().ID("live").Class("live").DataSet("state", state).DataSet("frames", l.frames).
				DataSet("class", class).DataSet("fps", fmt.Sprintf("%.1f", l.rate())).Body(
				app.P().ID("live-fps").Class("note").Text(l.status()),
				renderTop(l.top),
				app.If(l.err != "", app.P().Class("error").Text(l.err)),
			),
		),
		app.Div().Class("buttons").Body(
			app.Button().ID("capture-button").Type("button").Class("button").Text("Keep this frame").
				Title("Add the current frame to the results").OnClick(c.capture),
			app.Button().Type("button").Class("button secondary").Text("Stop camera").OnClick(c.closeCamera),
		),
	)
}
