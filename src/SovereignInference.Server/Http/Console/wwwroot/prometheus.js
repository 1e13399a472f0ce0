// A small reader of the Prometheus text exposition format (version 0.0.4), enough for the server's /metrics.

/** Parses the text into samples {name, labels, value}. Comments and blank lines are skipped. */
export function parsePrometheus(text) {
  const samples = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) {
      continue;
    }
    const sample = parseLine(line);
    if (sample) {
      samples.push(sample);
    }
  }
  return samples;
}

function parseLine(line) {
  const nameEnd = line.search(/[{\s]/);
  if (nameEnd <= 0) {
    return null;
  }
  const name = line.slice(0, nameEnd);
  const labels = {};
  let rest = line.slice(nameEnd);
  if (rest.startsWith("{")) {
    let i = 1;
    while (i < rest.length && rest[i] !== "}") {
      const eq = rest.indexOf("=", i);
      if (eq < 0 || rest[eq + 1] !== '"') {
        return null;
      }
      const key = rest.slice(i, eq).trim().replace(/^,/, "").trim();
      let j = eq + 2;
      let value = "";
      while (j < rest.length && rest[j] !== '"') {
        if (rest[j] === "\\" && j + 1 < rest.length) {
          const next = rest[j + 1];
          value += next === "n" ? "\n" : next;
          j += 2;
        } else {
          value += rest[j++];
        }
      }
      labels[key] = value;
      i = j + 1;
      while (i < rest.length && (rest[i] === "," || rest[i] === " ")) {
        i++;
      }
    }
    rest = rest.slice(i + 1);
  }
  const value = parseValue(rest.trim().split(/\s+/)[0]);
  return Number.isNaN(value) ? null : { name, labels, value };
}

function parseValue(text) {
  switch (text) {
    case "+Inf": return Infinity;
    case "-Inf": return -Infinity;
    case "NaN": return NaN;
    default: return Number(text);
  }
}

/** The sum of every sample named `name` (over all label sets); null when there is none. */
export function sum(samples, name) {
  let total = null;
  for (const s of samples) {
    if (s.name === name) {
      total = (total ?? 0) + s.value;
    }
  }
  return total;
}

/** The largest sample named `name`; null when there is none. */
export function max(samples, name) {
  let best = null;
  for (const s of samples) {
    if (s.name === name && (best === null || s.value > best)) {
      best = s.value;
    }
  }
  return best;
}

/** The values of `name` by one label (e.g. model), summed over the other labels. */
export function byLabel(samples, name, label) {
  const values = new Map();
  for (const s of samples) {
    if (s.name === name && s.labels[label] !== undefined) {
      values.set(s.labels[label], (values.get(s.labels[label]) ?? 0) + s.value);
    }
  }
  return values;
}

/** A histogram's cumulative buckets {le → count}, summed over every label set but le. */
export function buckets(samples, histogram) {
  const counts = new Map();
  for (const s of samples) {
    if (s.name === `${histogram}_bucket` && s.labels.le !== undefined) {
      const le = parseValue(s.labels.le);
      counts.set(le, (counts.get(le) ?? 0) + s.value);
    }
  }
  return counts;
}

/**
 * The q-quantile of the observations between two bucket snapshots, interpolated inside the bucket as
 * Prometheus' histogram_quantile does; null when nothing was observed in between.
 */
export function quantileBetween(before, after, q) {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  if (bounds.length === 0) {
    return null;
  }
  const delta = bounds.map((le) => Math.max(0, (after.get(le) ?? 0) - (before?.get(le) ?? 0)));
  const total = delta[delta.length - 1];
  if (!(total > 0)) {
    return null;
  }
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (delta[i] >= rank) {
      const upper = bounds[i];
      const lower = i === 0 ? 0 : bounds[i - 1];
      if (upper === Infinity) {
        return lower;
      }
      const below = i === 0 ? 0 : delta[i - 1];
      const inBucket = delta[i] - below;
      return inBucket <= 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket);
    }
  }
  return bounds[bounds.length - 1];
}
