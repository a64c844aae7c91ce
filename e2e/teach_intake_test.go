package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTeachIntake adds images to the teach page's classes by drag and
// drop, paste and a held record button on chromium's fake camera; refuses
// a huge file by name; marks an image that fails to decode, names it, and
// trains on the rest; removes an image and a class, and finds the result
// after a reload.
func TestTeachIntake(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t, "use-fake-device-for-media-stream", "use-fake-ui-for-media-stream")
	sha := indexSHA(t, srv, "fashion16")
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/teach"))
	waitFor(t, ctx, "the classes", `document.querySelectorAll("#teach-classes .teach-class").length === 2`, 60*time.Second)
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const s = document.querySelector("#teach-base-select");
		s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sha)))
	waitFor(t, ctx, "the base model", `(document.querySelector("#teach-base-status")||{}).dataset?.state === "ready"`, 60*time.Second)
	counts := `[...document.querySelectorAll("#teach-classes .count")].map(c => c.dataset.count).join()`

	png, err := os.ReadFile(fixture.images["fashion-0.png"])
	if err != nil {
		t.Fatal(err)
	}
	makeTransfer := fmt.Sprintf(`const bytes = Uint8Array.from(atob(%q), c => c.charCodeAt(0));
		const dt = new DataTransfer(); const zone = document.querySelectorAll("#teach-classes .teach-class")[0];`, base64.StdEncoding.EncodeToString(png))
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {`+makeTransfer+`
		dt.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
		zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
		zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true})); })()`))
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {`+makeTransfer+`
		dt.items.add(new File([bytes], "pasted.png", {type: "image/png"}));
		zone.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true})); })()`))
	// A file over the size limit is refused by name; a corrupt PNG and a
	// small one whose header claims 20000x20000 pixels are taken (they look
	// like images) and fail when their features are computed.
	run(t, ctx, 10*time.Second, chromedp.SetUploadFiles(chromedp.CSS(`#teach-classes .teach-class[data-class-index="0"] input.class-files`),
		[]string{fixture.images["huge.jpg"], fixture.images["corrupt.png"], pixelBomb(t)}))
	waitFor(t, ctx, "drop, paste, the corrupt file and the pixel bomb", counts+` === "4,0"`, 10*time.Second)
	if msg := evalString(t, ctx, `(document.querySelector(".class-notice")||{}).textContent||""`); !strings.Contains(msg, "huge.jpg: file is 65.0 MB, larger than the 64 MB limit") {
		t.Errorf("a 65 MB file: the page says %q, want a message naming huge.jpg and its size", msg)
	}

	// The fake camera: hold the record button, frames arrive, release, they stop.
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.CSS(`#teach-classes .teach-class[data-class-index="1"] .live-camera`)))
	waitFor(t, ctx, "the camera picture", `(() => { const v = document.querySelector("#teach-video"); return v && v.videoWidth > 0 && v.readyState >= 2; })()`, 20*time.Second)
	run(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](`document.querySelector("#teach-record").dispatchEvent(new PointerEvent("pointerdown", {bubbles: true}))`))
	waitFor(t, ctx, "a burst of 3 frames", `+document.querySelectorAll("#teach-classes .count")[1].dataset.count >= 3`, 20*time.Second)
	run(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](`document.querySelector("#teach-record").dispatchEvent(new PointerEvent("pointerup", {bubbles: true}))`))
	time.Sleep(time.Second) // a frame being grabbed may still land
	n1 := evalString(t, ctx, `document.querySelectorAll("#teach-classes .count")[1].dataset.count`)
	time.Sleep(time.Second)
	if n2 := evalString(t, ctx, `document.querySelectorAll("#teach-classes .count")[1].dataset.count`); n2 != n1 {
		t.Errorf("frames kept coming after the record button was released: %s, then %s", n1, n2)
	}
	screenshot(t, ctx, "teach-intake.png")

	// Training names the image that failed and trains on the others.
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("train-button")))
	waitFor(t, ctx, "the trained model", `(() => { const r = document.querySelector("#teach-result");
		if (r && r.dataset.state === "ready") return true;
		const e = document.querySelector("#teach-error"); if (e) throw new Error(e.textContent); return false; })()`, 60*time.Second)
	errs := evalString(t, ctx, `[...document.querySelectorAll(".thumb-error")].map(e => e.textContent).join()`)
	if !strings.Contains(errs, "corrupt.png") {
		t.Errorf("the corrupt image is not marked with its name: %q", errs)
	}
	if !strings.Contains(errs, "bomb.png: image too large: 20000x20000") {
		t.Errorf("a small file claiming 20000x20000 pixels is not marked with its name and size: %q", errs)
	}

	// Remove one image and the second class; a reload shows what is left.
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#teach-classes .teach-class")[0].querySelector(".delete-image").click()`))
	waitFor(t, ctx, "one image fewer", counts+`.startsWith("3,")`, 10*time.Second)
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`window.confirm = () => true; document.querySelectorAll("#teach-classes .teach-class")[1].querySelector(".delete-class").click()`))
	waitFor(t, ctx, "one class", `document.querySelectorAll("#teach-classes .teach-class").length === 1`, 10*time.Second)
	time.Sleep(500 * time.Millisecond) // IndexedDB commits
	run(t, ctx, 30*time.Second, chromedp.Reload())
	waitFor(t, ctx, "the kept class after a reload", counts+` === "3"`, 30*time.Second)
	if p := evalString(t, ctx, `document.querySelector("#teach-problems").textContent`); !strings.Contains(p, "at least two classes") {
		t.Errorf("one class left: the page says %q", p)
	}
}

// pixelBomb writes a small PNG whose header claims 20000x20000 pixels
// (400 MP, over model.MaxPixels) and returns its path.
func pixelBomb(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	// IHDR data starts at byte 16 (8 signature, 4 length, 4 type): width, height.
	binary.BigEndian.PutUint32(b[16:], 20000)
	binary.BigEndian.PutUint32(b[20:], 20000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29])) // CRC of type and data
	p := filepath.Join(t.TempDir(), "bomb.png")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
