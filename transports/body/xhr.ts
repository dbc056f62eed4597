// The streamed body of an XMLHttpRequest, read at every readyState 3 from where the last read
// stopped: the reader of engines that do not stream a fetch body (a 2016 QtWebKit has no fetch at
// all). Chromium and Firefox hand the body to script on the XHR standard's 50 ms progress timer,
// not per network chunk, which is why engines that can use body/fetch.ts instead. The response
// text grows for as long as the response lasts: the server's stream recycling bounds it (PROTOCOL.md §7).
import type { BodyReader } from './reader.ts';
import type { Platform } from '../../src/platform.ts';

export const xhrBody: BodyReader = (platform, { url, withCredentials, headers }, sink) => {
  const xhr = new (platform as Required<Platform>).XMLHttpRequest();
  /** How much of the response text the sink has had. */
  let read = 0;
  let headed = false;
  xhr.open('GET', url);
  xhr.withCredentials = withCredentials;
  // for-in, not Object.entries: this is the reader of engines older than ES2017.
  for (const header in headers) xhr.setRequestHeader(header, headers[header] ?? '');
  xhr.onreadystatechange = () => {
    const { readyState, status } = xhr;
    // [XHR] Status is 0 until the headers arrive (readyState 2); a network error shows as
    // readyState 4 with status 0.
    if (!status) return readyState > 3 && sink.failed();
    if (!headed) {
      headed = true;
      if (!sink.head(status, xhr.getResponseHeader('Content-Type') ?? '')) return;
    }
    // At readyState 2 the text is empty: nothing to read yet. [XHR] The text decodes every byte
    // received so far, so an engine may show a character whose bytes are still arriving as a
    // U+FFFD at the end, and the character itself once they have (jsdom does; the engines of
    // docs/ENGINES.md hold it back): a last U+FFFD is read once more text follows or the body ends.
    const text = xhr.responseText;
    const complete = readyState > 3;
    const end = complete || text.charCodeAt(text.length - 1) != 0xfffd ? text.length : text.length - 1;
    const chunk = text.slice(read, end);
    read = end;
    sink.text(chunk, complete);
  };
  xhr.send();
  return () => {
    // Aborting fires readystatechange in some engines: unhook first. Unhooked, nothing more is heard.
    xhr.onreadystatechange = null;
    xhr.abort();
  };
};
