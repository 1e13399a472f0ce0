// A small line chart on a <canvas>: a few series over a sliding window of points, y axis from 0 to the largest value.

const COLORS = ["#1f4e79", "#b35900", "#1d6b34", "#7a2e8a"];

export class LineChart {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {string[]} series names, shown in the legend
   * @param {{points?: number, unit?: string}} options
   */
  constructor(canvas, series, { points = 90, unit = "" } = {}) {
    this.canvas = canvas;
    this.series = series;
    this.points = points;
    this.unit = unit;
    this.values = series.map(() => []);
    this.draws = 0;
  }

  /** Appends one value per series (null leaves a gap) and redraws. */
  push(...values) {
    values.forEach((v, i) => {
      const list = this.values[i];
      list.push(typeof v === "number" && Number.isFinite(v) ? v : null);
      if (list.length > this.points) {
        list.shift();
      }
    });
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(200, Math.round((canvas.clientWidth || canvas.width) * ratio));
    const height = Math.max(80, Math.round((canvas.clientHeight || canvas.height) * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    const w = width / ratio;
    const h = height / ratio;
    const left = 44;
    const right = 8;
    const top = 18;
    const bottom = 14;
    g.clearRect(0, 0, w, h);
    g.font = "11px system-ui, sans-serif";

    const all = this.values.flat().filter((v) => v !== null);
    const top_ = niceMax(all.length ? Math.max(...all) : 0);
    g.strokeStyle = "#c9d0d8";
    g.fillStyle = "#4a5360";
    g.lineWidth = 1;
    for (let i = 0; i <= 2; i++) {
      const y = top + ((h - top - bottom) * i) / 2;
      g.beginPath();
      g.moveTo(left, Math.round(y) + 0.5);
      g.lineTo(w - right, Math.round(y) + 0.5);
      g.stroke();
      g.textAlign = "right";
      g.textBaseline = "middle";
      g.fillText(formatTick((top_ * (2 - i)) / 2), left - 4, y);
    }

    const step = (w - left - right) / Math.max(1, this.points - 1);
    this.values.forEach((list, s) => {
      g.strokeStyle = COLORS[s % COLORS.length];
      g.lineWidth = 2;
      g.beginPath();
      let drawing = false;
      const offset = this.points - list.length;
      list.forEach((v, i) => {
        if (v === null) {
          drawing = false;
          return;
        }
        const x = left + (offset + i) * step;
        const y = top + (h - top - bottom) * (1 - (top_ === 0 ? 0 : v / top_));
        if (drawing) {
          g.lineTo(x, y);
        } else {
          g.moveTo(x, y);
          drawing = true;
        }
      });
      g.stroke();
      // A value with no neighbour (e.g. a percentile seen once) is a dot, not an invisible zero-length line.
      g.fillStyle = COLORS[s % COLORS.length];
      list.forEach((v, i) => {
        if (v !== null && (list[i - 1] ?? null) === null && (list[i + 1] ?? null) === null) {
          const x = left + (offset + i) * step;
          const y = top + (h - top - bottom) * (1 - (top_ === 0 ? 0 : v / top_));
          g.beginPath();
          g.arc(x, y, 2.5, 0, 2 * Math.PI);
          g.fill();
        }
      });
    });

    if (this.series.length > 1) {
      let x = left;
      g.textAlign = "left";
      g.textBaseline = "top";
      this.series.forEach((name, s) => {
        g.fillStyle = COLORS[s % COLORS.length];
        g.fillRect(x, 3, 10, 10);
        g.fillStyle = "#1b1f24";
        g.fillText(name, x + 14, 2);
        x += 14 + g.measureText(name).width + 12;
      });
    }
    this.draws++;
    canvas.dataset.points = String(this.values[0].length);
  }
}

function niceMax(value) {
  if (!(value > 0)) {
    return 1;
  }
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 4, 5, 10]) {
    if (value <= m * magnitude) {
      return m * magnitude;
    }
  }
  return 10 * magnitude;
}

function formatTick(value) {
  if (value === 0) {
    return "0";
  }
  if (value >= 1000) {
    return `${(value / 1000).toFixed(value >= 10000 ? 0 : 1)}k`;
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  return value >= 1 ? value.toFixed(1) : value.toFixed(2);
}
