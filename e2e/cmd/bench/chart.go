package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// svg draws median wall time per certificate against the number of names,
// one line per solver, log-log, with min–max bars. The 5-zone workload is
// drawn as hollow markers next to x = 10.
func (r *results) svg() string {
	const (
		width, height                = 960, 500
		left, right, top, bottom     = 70, 330, 48, 58
		plotW                        = width - left - right
		plotH                        = height - top - bottom
		xMinN, xMaxN                 = 0.8, 65.0
		markerR                      = 4.0
		fontFamily                   = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""
		legendX, legendY, legendStep = width - right + 18, top + 10, 22
	)
	colors := []string{"#c0392b", "#2471a3", "#1e8449", "#b9770e", "#7d3c98", "#555555", "#17a589"}

	// y range from the data, padded to whole decades.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range r.cells {
		if c.err != nil || len(c.runs) == 0 {
			continue
		}
		a, b := c.span(wallOf)
		lo, hi = math.Min(lo, a), math.Max(hi, b)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0.1, 10
	}
	yMin := math.Pow(10, math.Floor(math.Log10(lo)))
	yMax := math.Pow(10, math.Ceil(math.Log10(hi)))
	if yMax/yMin < 100 {
		yMax = yMin * 100
	}
	x := func(n float64) float64 {
		return left + plotW*(math.Log10(n)-math.Log10(xMinN))/(math.Log10(xMaxN)-math.Log10(xMinN))
	}
	y := func(s float64) float64 {
		return top + plotH*(1-(math.Log10(s)-math.Log10(yMin))/(math.Log10(yMax)-math.Log10(yMin)))
	}

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`, width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>`)
	p(`<text x="%d" y="24" font-size="15" font-weight="bold" %s>Wall time per certificate against names (API latency %v)</text>`, left, fontFamily, r.opts.latency)
	// grid and axes
	for d := yMin; d <= yMax*1.0001; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := d * m
			if v > yMax*1.0001 {
				break
			}
			stroke := "#e5e5e5"
			if m == 1 {
				stroke = "#c8c8c8"
			}
			p(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, left, left+plotW, y(v), y(v), stroke)
			p(`<text x="%d" y="%.1f" font-size="11" text-anchor="end" %s>%s</text>`, left-6, y(v)+4, fontFamily, axisSeconds(v))
		}
	}
	for _, n := range []float64{1, 2, 5, 10, 20, 50} {
		p(`<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#e5e5e5"/>`, x(n), x(n), top, top+plotH)
		p(`<text x="%.1f" y="%d" font-size="11" text-anchor="middle" %s>%g</text>`, x(n), top+plotH+16, fontFamily, n)
	}
	p(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`, left, top, plotW, plotH)
	p(`<text x="%d" y="%d" font-size="12" text-anchor="middle" %s>names in the certificate (log scale)</text>`, left+plotW/2, height-14, fontFamily)
	p(`<text transform="translate(18 %d) rotate(-90)" font-size="12" text-anchor="middle" %s>wall time, seconds (log scale)</text>`, top+plotH/2, fontFamily)

	for i, s := range r.solvers {
		color := colors[i%len(colors)]
		dash := "" // the second round of colours is dashed
		if i >= len(colors) {
			dash = ` stroke-dasharray="6 3"`
		}
		var pts []string
		for _, c := range r.cells {
			if c.solver != s || c.err != nil || len(c.runs) == 0 {
				continue
			}
			n := float64(c.workload.names)
			hollow := c.workload.zones > 1
			if hollow {
				n *= 1.08 // beside the 1-zone point of the same size
			}
			med := c.med(wallOf)
			a, bb := c.span(wallOf)
			p(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`, x(n), x(n), y(a), y(bb), color)
			fill := color
			if hollow {
				fill = "white"
			} else {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(n), y(med)))
			}
			p(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" stroke="%s" stroke-width="1.5"><title>%s, %s: %s</title></circle>`,
				x(n), y(med), markerR, fill, color, html.EscapeString(s.label), html.EscapeString(c.workload.title), html.EscapeString(c.wallCell()))
		}
		if len(pts) > 1 {
			p(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`, strings.Join(pts, " "), color, dash)
		}
		ly := legendY + i*legendStep
		p(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`, legendX, legendX+22, ly, ly, color, dash)
		p(`<circle cx="%d" cy="%d" r="%.1f" fill="%s"/>`, legendX+11, ly, markerR, color)
		p(`<text x="%d" y="%d" font-size="12" %s>%s</text>`, legendX+30, ly+4, fontFamily, html.EscapeString(s.label))
	}
	ly := legendY + len(r.solvers)*legendStep + 6
	p(`<circle cx="%d" cy="%d" r="%.1f" fill="white" stroke="#555" stroke-width="1.5"/>`, legendX+11, ly, markerR)
	p(`<text x="%d" y="%d" font-size="12" %s>10 names in 5 zones</text>`, legendX+30, ly+4, fontFamily)
	p(`<text x="%d" y="%d" font-size="11" fill="#555" %s>median, bar = min–max</text>`, legendX, ly+26, fontFamily)
	p(`</svg>`)
	return b.String()
}

func axisSeconds(v float64) string {
	switch {
	case v >= 1:
		return fmt.Sprintf("%g s", v)
	default:
		return fmt.Sprintf("%g", v)
	}
}
