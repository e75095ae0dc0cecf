package harness

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	colOurs     = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colUpstream = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	colFailed   = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	colEvent    = color.RGBA{R: 90, G: 90, B: 90, A: 255}
	colSet      = color.RGBA{R: 44, G: 160, B: 44, A: 255}
)

// PlotP4 draws the steady client's put latency over time around a
// certificate change of one kind, all rounds overlaid: ours on top,
// upstream below, time 0 at `snap set` (ours) or the file swap (upstream).
// Failed puts are red crosses at their (timed-out) latency; the dashed
// lines are each round's first handshake with the new certificate, the
// dotted ones when `snap set` returned.
func PlotP4(res *Results, kind, path string) error {
	title := map[string]string{
		"leaf": "Leaf renewal (no restart): steady client put latency",
		"ca":   "CA change (restart): steady client put latency",
	}[kind]
	var rows [][]*plot.Plot
	for _, impl := range []string{Ours, Upstream} {
		p := plot.New()
		label := "ours (charmed-etcd, snap set through snapsim)"
		col := colOurs
		if impl == Upstream {
			label, col = "upstream etcd (files replaced by rename; restart by hand for a CA change)", colUpstream
		}
		if impl == Ours {
			p.Title.Text = title
		}
		p.X.Label.Text = "seconds since the change started"
		p.Y.Label.Text = "put latency (ms, log)"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Add(plotter.NewGrid())
		var ok, bad plotter.XYs
		var events, sets []float64
		ymax := 1.0
		for _, r := range res.P4 {
			if r.Impl != impl || r.Kind != kind {
				continue
			}
			events = append(events, r.NewCert.Seconds())
			sets = append(sets, r.SetDone.Seconds())
			for _, s := range r.Samples {
				y := ms(s.Latency)
				if y < 0.05 {
					y = 0.05
				}
				if y > ymax {
					ymax = y
				}
				pt := plotter.XY{X: s.At.Seconds(), Y: y}
				if s.Failed {
					bad = append(bad, pt)
				} else {
					ok = append(ok, pt)
				}
			}
		}
		if len(ok) > 0 {
			sc, err := plotter.NewScatter(ok)
			if err != nil {
				return err
			}
			sc.GlyphStyle.Color = col
			sc.GlyphStyle.Radius = vg.Points(1.2)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(sc)
			p.Legend.Add(label+": put", sc)
		}
		if len(bad) > 0 {
			sc, err := plotter.NewScatter(bad)
			if err != nil {
				return err
			}
			sc.GlyphStyle.Color = colFailed
			sc.GlyphStyle.Radius = vg.Points(2.5)
			sc.GlyphStyle.Shape = draw.CrossGlyph{}
			p.Add(sc)
			p.Legend.Add(fmt.Sprintf("failed put (%d)", len(bad)), sc)
		}
		setLabel := "snap set returned (each round)"
		if impl == Upstream {
			setLabel = "files replaced, process restarted if needed (each round)"
		}
		for _, marks := range []struct {
			xs    []float64
			col   color.Color
			dash  []vg.Length
			label string
		}{
			{events, colEvent, []vg.Length{vg.Points(3), vg.Points(3)}, "new certificate first presented (each round)"},
			{sets, colSet, []vg.Length{vg.Points(1), vg.Points(2)}, setLabel},
		} {
			for i, x := range marks.xs {
				l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0.05}, {X: x, Y: ymax * 200}})
				if err != nil {
					return err
				}
				l.Color, l.Dashes, l.Width = marks.col, marks.dash, vg.Points(0.8)
				p.Add(l)
				if i == 0 {
					p.Legend.Add(marks.label, l)
				}
			}
		}
		// Headroom above the slowest put for the legend.
		p.Y.Min, p.Y.Max = 0.05, ymax*200
		p.Legend.Top = true
		p.Legend.Left = true
		p.Legend.TextStyle.Font.Size = vg.Points(8)
		rows = append(rows, []*plot.Plot{p})
	}
	// Same time axis in both panels.
	minX, maxX := 0.0, 0.0
	for _, r := range rows {
		minX = min(minX, r[0].X.Min)
		maxX = max(maxX, r[0].X.Max)
	}
	for _, r := range rows {
		r[0].X.Min, r[0].X.Max = minX, maxX
	}
	const w, h = 10 * vg.Inch, 8 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	t := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadX: vg.Points(4), PadY: vg.Points(12)}
	canvases := plot.Align(rows, t, dc)
	for i := range rows {
		rows[i][0].Draw(canvases[i][0])
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
