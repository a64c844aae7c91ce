package ui

import (
	"fmt"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// teachBurstEvery is the interval between frames while the record button is
// held.
const teachBurstEvery = 250 * time.Millisecond

// teachCamera is the teach page's live camera: one class at a time gets
// the frames captured while its record button is held.
type teachCamera struct {
	classID   string
	stream    app.Value
	recording bool
	captured  int
}

// onCamera opens the camera for a class (getUserMedia); where that is
// missing or refused, the class's "Camera photo" file input remains.
func (t *Teach) onCamera(classID string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		devices := app.Window().Get("navigator").Get("mediaDevices")
		c := t.class(classID)
		if c == nil {
			return
		}
		if !devices.Truthy() || !devices.Get("getUserMedia").Truthy() {
			c.Notice = "This browser gives no camera access here; use Camera photo or choose images."
			return
		}
		constraints := map[string]any{"video": map[string]any{"facingMode": "environment"}, "audio": false}
		awaitPromise(ctx, devices.Call("getUserMedia", constraints), func(ctx app.Context, stream app.Value) {
			t.closeCamera()
			t.cam = teachCamera{classID: classID, stream: stream}
			ctx.Defer(func(ctx app.Context) {
				if v := app.Window().GetElementByID("teach-video"); v.Truthy() {
					v.Set("srcObject", stream)
				}
			})
		}, func(ctx app.Context, msg string) {
			c.Notice = "Camera unavailable (" + msg + "); use Camera photo or choose images."
		})
	}
}

// closeCamera stops the stream.
func (t *Teach) closeCamera() {
	if t.cam.stream != nil && t.cam.stream.Truthy() {
		tracks := t.cam.stream.Call("getTracks")
		for i := 0; i < tracks.Length(); i++ {
			tracks.Index(i).Call("stop")
		}
	}
	t.cam = teachCamera{}
}

// startBurst adds a frame now and every teachBurstEvery while the button
// is held (pointer or key down).
func (t *Teach) startBurst(ctx app.Context, e app.Event) {
	e.PreventDefault()
	if t.cam.recording {
		return
	}
	t.cam.recording = true
	t.burstFrame(ctx)
}

func (t *Teach) stopBurst(ctx app.Context, e app.Event) { t.cam.recording = false }

func (t *Teach) burstFrame(ctx app.Context) {
	if !t.cam.recording || t.cam.classID == "" {
		return
	}
	classID := t.cam.classID
	grabVideoFrame(ctx, "teach-video", func(ctx app.Context, blob app.Value) {
		if !t.cam.recording { // released while this frame was encoded: the burst is over
			return
		}
		t.cam.captured++
		blob.Set("name", fmt.Sprintf("camera-%s-%d.png", time.Now().Format("150405"), t.cam.captured))
		t.addFiles(ctx, classID, app.Window().Get("Array").Call("of", blob))
	}, func(app.Context) {})
	ctx.After(teachBurstEvery, t.burstFrame)
}

// renderCamera is the live view under the class that has the camera.
func (t *Teach) renderCamera(c *teachClass) app.UI {
	if t.cam.classID != c.ID {
		return app.Text("")
	}
	return app.Div().Class("camera").Body(
		app.Video().ID("teach-video").AutoPlay(true).Attr("playsinline", true).Muted(true).Aria("label", "Camera preview"),
		app.Div().Class("buttons").Body(
			app.Button().ID("teach-record").Type("button").Class("button").
				Text(fmt.Sprintf("Hold to record (%d frames)", t.cam.captured)).
				On("pointerdown", t.startBurst).On("pointerup", t.stopBurst).On("pointerleave", t.stopBurst).
				OnKeyDown(func(ctx app.Context, e app.Event) {
					if k := e.Get("key").String(); k == " " || k == "Enter" {
						t.startBurst(ctx, e)
					}
				}).OnKeyUp(t.stopBurst),
			app.Button().Type("button").Class("button secondary").Text("Stop camera").OnClick(func(ctx app.Context, e app.Event) { t.closeCamera() }),
		),
	)
}
