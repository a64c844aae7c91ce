package report

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// PlotCurves writes a PNG with two panels: loss (left) and accuracy
// (right), each with the training and validation curves per epoch.
func PlotCurves(path string, h *History) error {
	if len(h.Epochs) == 0 {
		return fmt.Errorf("plot %s: no epochs", path)
	}
	mk := func(title, ylabel string, train, val func(Epoch) float64) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = ylabel
		p.Add(plotter.NewGrid())
		tr, va := make(plotter.XYs, len(h.Epochs)), make(plotter.XYs, len(h.Epochs))
		for i, e := range h.Epochs {
			tr[i] = plotter.XY{X: float64(e.Epoch), Y: train(e)}
			va[i] = plotter.XY{X: float64(e.Epoch), Y: val(e)}
		}
		series := []struct {
			name string
			xy   plotter.XYs
			c    color.RGBA
		}{{"train", tr, color.RGBA{31, 119, 180, 255}}, {"validation", va, color.RGBA{255, 127, 14, 255}}}
		if !h.hasValidation() {
			series = series[:1]
		}
		for _, s := range series {
			l, pts, err := plotter.NewLinePoints(s.xy)
			if err != nil {
				return nil, err
			}
			l.Color, pts.Color = s.c, s.c
			l.Width = vg.Points(1.5)
			pts.Shape = draw.CircleGlyph{}
			p.Add(l, pts)
			p.Legend.Add(s.name, l, pts)
		}
		if h.BestEpoch > 0 {
			pick := val
			if !h.hasValidation() {
				pick = train
			}
			best := plotter.XYs{{X: float64(h.BestEpoch), Y: pick(h.Epochs[h.BestEpoch-1])}}
			sc, err := plotter.NewScatter(best)
			if err != nil {
				return nil, err
			}
			sc.Shape = draw.RingGlyph{}
			sc.Radius = vg.Points(6)
			sc.Color = color.RGBA{200, 0, 0, 255}
			p.Add(sc)
			p.Legend.Add("best (restored)", sc)
		}
		p.Legend.Top = ylabel != "accuracy" // the empty corner: loss falls, accuracy rises
		p.Legend.Left = false
		return p, nil
	}
	loss, err := mk("loss", "cross-entropy", func(e Epoch) float64 { return e.TrainLoss }, func(e Epoch) float64 { return e.ValLoss })
	if err != nil {
		return err
	}
	acc, err := mk("accuracy", "accuracy", func(e Epoch) float64 { return e.TrainAcc }, func(e Epoch) float64 { return e.ValAcc })
	if err != nil {
		return err
	}
	img := vgimg.New(vg.Points(900), vg.Points(360))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(10), PadY: vg.Points(10), PadTop: vg.Points(5), PadBottom: vg.Points(5), PadLeft: vg.Points(5), PadRight: vg.Points(5)}
	canvases := plot.Align([][]*plot.Plot{{loss, acc}}, tiles, dc)
	loss.Draw(canvases[0][0])
	acc.Draw(canvases[0][1])
	return savePNG(path, img)
}

// PlotConfusion writes the confusion matrix as a heat map with counts,
// rows = true class, columns = predicted class, normalised per row for the
// colour so that small classes stay readable.
func PlotConfusion(path string, c *Confusion, title string) error {
	n := len(c.Classes)
	if n == 0 {
		return fmt.Errorf("plot %s: no classes", path)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted"
	p.Y.Label.Text = "true"
	grid := confusionGrid{c: c}
	// Heat runs dark→light; reverse it so high shares are dark.
	cols := palette.Heat(64, 1).Colors()
	for i, j := 0, len(cols)-1; i < j; i, j = i+1, j-1 {
		cols[i], cols[j] = cols[j], cols[i]
	}
	hm := plotter.NewHeatMap(grid, customPalette(cols))
	hm.Min, hm.Max = 0, 1
	p.Add(hm)
	var labels plotter.XYLabels
	for t := 0; t < n; t++ {
		for q := 0; q < n; q++ {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(q), Y: float64(n - 1 - t)})
			labels.Labels = append(labels.Labels, fmt.Sprint(c.M[t][q]))
		}
	}
	lab, err := plotter.NewLabels(labels)
	if err != nil {
		return err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].XAlign = draw.XCenter
		lab.TextStyle[i].YAlign = draw.YCenter
		lab.TextStyle[i].Font.Size = vg.Points(max(6, 14-float64(n)/2))
	}
	p.Add(lab)
	xt, yt := make([]plot.Tick, n), make([]plot.Tick, n)
	for i, name := range c.Classes {
		xt[i] = plot.Tick{Value: float64(i), Label: name}
		yt[i] = plot.Tick{Value: float64(n - 1 - i), Label: name}
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	size := vg.Points(float64(220 + 42*n))
	img := vgimg.New(size+vg.Points(60), size)
	p.Draw(draw.New(img))
	return savePNG(path, img)
}

type customPalette []color.Color

func (p customPalette) Colors() []color.Color { return p }

// confusionGrid adapts a Confusion to plotter.GridXYZ: cell (col, row) with
// row 0 at the bottom, value = share of the true class's images.
type confusionGrid struct{ c *Confusion }

func (g confusionGrid) Dims() (c, r int) { n := len(g.c.Classes); return n, n }
func (g confusionGrid) X(c int) float64  { return float64(c) }
func (g confusionGrid) Y(r int) float64  { return float64(r) }
func (g confusionGrid) Z(c, r int) float64 {
	n := len(g.c.Classes)
	t := n - 1 - r
	sum := 0
	for _, v := range g.c.M[t] {
		sum += v
	}
	if sum == 0 {
		return 0
	}
	return float64(g.c.M[t][c]) / float64(sum)
}

// hasValidation reports whether any epoch has validation numbers (a run
// with --val 0 has none and records zeros).
func (h *History) hasValidation() bool {
	for _, e := range h.Epochs {
		if e.ValLoss != 0 || e.ValAcc != 0 {
			return true
		}
	}
	return false
}
