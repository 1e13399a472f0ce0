// Server-sent events read from a fetch() body (EventSource cannot POST or send headers).

/** Yields the data of each event of a text/event-stream body; multi-line data is joined with "\n". */
export async function* sseData(response, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    while (true) {
      if (signal?.aborted) {
        return;
      }
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      buffer += decoder.decode(value, { stream: true });
      let boundary;
      while ((boundary = nextBoundary(buffer)) !== null) {
        const block = buffer.slice(0, boundary.index);
        buffer = buffer.slice(boundary.index + boundary.length);
        const data = dataOf(block);
        if (data !== null) {
          yield data;
        }
      }
    }
    buffer += decoder.decode();
    const data = dataOf(buffer);
    if (data !== null) {
      yield data;
    }
  } finally {
    reader.releaseLock();
  }
}

function nextBoundary(buffer) {
  const match = /\r\n\r\n|\n\n|\r\r/.exec(buffer);
  return match ? { index: match.index, length: match[0].length } : null;
}

function dataOf(block) {
  const lines = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line.startsWith("data:")) {
      lines.push(line.slice(line.startsWith("data: ") ? 6 : 5));
    }
  }
  return lines.length > 0 ? lines.join("\n") : null;
}
