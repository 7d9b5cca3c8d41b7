import { BufferedResponse } from '../../lib/client/buffered-response';

// The Response req.oauth returns for small API answers (read into memory once): it must behave as
// `new Response(bytes)` does for every way of reading it.
const bytes = () => new TextEncoder().encode('{"ok":true,"items":[1,2,3],"name":"zoë"}');
const make = () => new BufferedResponse(bytes(), { status: 201, statusText: 'Created', headers: { 'content-type': 'application/json' } });

describe('BufferedResponse', () => {
  it('should be a Response with the status and headers given', () => {
    const res = make();
    expect(res).toBeInstanceOf(Response);
    expect([res.status, res.statusText, res.ok, res.headers.get('content-type'), res.bodyUsed]).toEqual([201, 'Created', true, 'application/json', false]);
  });

  it('should read as json, text, arrayBuffer and blob exactly like new Response(bytes)', async () => {
    expect(await make().json()).toEqual({ ok: true, items: [1, 2, 3], name: 'zoë' });
    expect(await make().text()).toBe('{"ok":true,"items":[1,2,3],"name":"zoë"}');
    expect(Buffer.from(await make().arrayBuffer()).equals(Buffer.from(bytes()))).toBe(true);
    const blob = await make().blob();
    expect([blob.type, await blob.text()]).toEqual(['application/json', '{"ok":true,"items":[1,2,3],"name":"zoë"}']);
  });

  it('should read its body once: bodyUsed turns true and a second read rejects with TypeError, as Response does', async () => {
    const res = make();
    await res.text();
    expect(res.bodyUsed).toBe(true);
    await expect(res.json()).rejects.toThrow(new TypeError('Body is unusable: Body has already been read'));
    expect(() => res.clone()).toThrow(TypeError);
    const plain = new Response(bytes());
    await plain.text();
    await expect(plain.json()).rejects.toMatchObject({ name: 'TypeError', message: 'Body is unusable: Body has already been read' });
  });

  it('should hand out the body as a stream that yields the same bytes, after which json() rejects', async () => {
    const res = make();
    const chunks: Uint8Array[] = [];
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('{"ok":true,"items":[1,2,3],"name":"zoë"}');
    expect(res.bodyUsed).toBe(true);
    await expect(res.json()).rejects.toThrow(TypeError);
  });

  it('should read through the stream when body was only looked at, and give an empty stream for an empty body', async () => {
    const res = make();
    expect(res.body).toBe(res.body);
    expect(await res.json()).toEqual({ ok: true, items: [1, 2, 3], name: 'zoë' });
    const empty = new BufferedResponse(new Uint8Array(0), { status: 200 });
    expect(await new Response(empty.body).text()).toBe('');
  });

  it('should clone into an independent response, before or after body was handed out', async () => {
    const res = make();
    const copy = res.clone();
    expect([copy.status, copy.headers.get('content-type')]).toEqual([201, 'application/json']);
    expect([await copy.text(), await res.text()]).toEqual(['{"ok":true,"items":[1,2,3],"name":"zoë"}', '{"ok":true,"items":[1,2,3],"name":"zoë"}']);
    const streamed = make();
    void streamed.body;
    const teed = streamed.clone();
    expect([await teed.json(), await streamed.json()]).toEqual([
      { ok: true, items: [1, 2, 3], name: 'zoë' },
      { ok: true, items: [1, 2, 3], name: 'zoë' },
    ]);
  });

  it('should parse a form body like Response does', async () => {
    const res = new BufferedResponse(new TextEncoder().encode('a=1&b=two'), { status: 200, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const form = await res.formData();
    expect([form.get('a'), form.get('b')]).toEqual(['1', 'two']);
  });
});
