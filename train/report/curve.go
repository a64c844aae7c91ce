package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// CurvePoint is one point of a learning curve: the mean and standard
// deviation of a score over Runs runs at X training images per class.
type CurvePoint struct {
	X, Mean, SD float64
	Runs        int
}

// CurveSeries is one arm's learning curve.
type CurveSeries struct {
	Name   string
	Points []CurvePoint // ascending X
}

// MeanSD is the mean and the sample standard deviation (n−1; 0 for one
// value) of v.
func MeanSD(v []float64) (mean, sd float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, 0
	}
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)-1))
}

// PlotLearningCurves writes a PNG of test accuracy against training images
// per class (log scale), one line per series with ± one standard deviation
// as error bars, the way the transfer experiment compares its arms.
func PlotLearningCurves(path, title string, series []CurveSeries) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "training images per class (log scale)"
	p.Y.Label.Text = "test accuracy (mean ± sd over seeds)"
	p.X.Scale = plot.LogScale{}
	p.Add(plotter.NewGrid())
	points := 0
	xs := map[float64]bool{}
	for i, s := range series {
		if len(s.Points) == 0 {
			continue
		}
		// Each series is nudged sideways a little so error bars do not
		// hide each other.
		nudge := math.Pow(1.03, float64(i)-float64(len(series)-1)/2)
		xy := make(plotter.XYs, len(s.Points))
		errs := make(plotter.YErrors, len(s.Points))
		for j, pt := range s.Points {
			if pt.X <= 0 {
				return fmt.Errorf("plot %s: series %s: x %g, want > 0 on a log scale", path, s.Name, pt.X)
			}
			xy[j] = plotter.XY{X: pt.X * nudge, Y: pt.Mean}
			xs[pt.X] = true
			errs[j].Low, errs[j].High = pt.SD, pt.SD
		}
		c := plotutil.Color(i)
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return err
		}
		l.Color, pts.Color = c, c
		l.Width = vg.Points(1.5)
		l.Dashes = plotutil.Dashes(i / 7)
		pts.Shape = plotutil.Shape(i)
		bars, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xy, errs})
		if err != nil {
			return err
		}
		bars.Color = c
		p.Add(l, pts, bars)
		p.Legend.Add(s.Name, l, pts)
		points += len(s.Points)
	}
	if points == 0 {
		return fmt.Errorf("plot %s: no points", path)
	}
	p.Legend.Top, p.Legend.Left = true, true // accuracy rises with n: the top left stays empty
	p.Legend.XOffs = vg.Points(4)
	p.Legend.YOffs = vg.Points(-4)
	// Ticks at the measured sizes, a margin either side, and the whole
	// accuracy range, so that curves of different runs compare by eye.
	var ticks []plot.Tick
	for x := range xs {
		ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', -1, 64)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = p.X.Min/1.25, p.X.Max*1.25
	p.Y.Min, p.Y.Max = 0, 1
	img := vgimg.New(vg.Points(720), vg.Points(450))
	dc := draw.New(img)
	fill := color.White
	dc.SetColor(fill)
	dc.Fill(dc.Rectangle.Path())
	p.Draw(dc)
	return savePNG(path, img)
}
