const decoder = new TextDecoder();

function unusable(): TypeError {
  return new TypeError('Body is unusable: Body has already been read');
}

/**
 * A `Response` whose body is read into memory in one go (the small answers most APIs give): the
 * bytes, or the promise of them while they still arrive (the transport answers at the headers).
 * `new Response(bytes)` would wrap the bytes in a web stream that `json()` and `text()` then read
 * back through the stream machinery, a measurable share of an API call's CPU; this subclass
 * answers them from the bytes and builds a stream only when `body` itself is asked for. It is a
 * real `Response` (`instanceof`, `status`, `headers`, `clone()`), and a body is read at most once.
 * A body that fails to arrive (deadline, reset) rejects the read with that error.
 */
export class BufferedResponse extends Response {
  readonly #bytes: Uint8Array<ArrayBuffer> | Promise<Uint8Array<ArrayBuffer>>;
  #used = false;
  #stream: ReadableStream<Uint8Array<ArrayBuffer>> | undefined;

  constructor(bytes: Uint8Array<ArrayBuffer> | Promise<Uint8Array<ArrayBuffer>>, init: ResponseInit) {
    super(null, init);
    this.#bytes = bytes;
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> {
    // highWaterMark 0: nothing is pulled (and the body is not used) until someone reads.
    this.#stream ??= new ReadableStream<Uint8Array<ArrayBuffer>>(
      {
        pull: async (controller) => {
          const used = this.#used;
          this.#used = true;
          const bytes = await this.#bytes;
          if (!used && bytes.byteLength > 0) controller.enqueue(bytes.slice());
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    return this.#stream;
  }

  override get bodyUsed(): boolean {
    return this.#used;
  }

  async #read(): Promise<Uint8Array<ArrayBuffer>> {
    // Once the stream was handed out, it is the body: read through it (a locked or read one throws).
    if (this.#used || this.#stream?.locked) throw unusable();
    if (this.#stream) return new Uint8Array(await new Response(this.#stream).arrayBuffer());
    this.#used = true;
    return this.#bytes;
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#read();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  override async text(): Promise<string> {
    return decoder.decode(await this.#read());
  }

  override async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  override async blob(): Promise<Blob> {
    return new Blob([await this.#read()], { type: this.headers.get('content-type') ?? '' });
  }

  override async formData(): Promise<FormData> {
    return new Response(await this.#read(), { headers: this.headers }).formData();
  }

  /** The bytes are never changed (a stream gets a copy), so a clone shares them. */
  override clone(): Response {
    if (this.#used || this.#stream?.locked) throw unusable();
    return new BufferedResponse(this.#bytes, { status: this.status, statusText: this.statusText, headers: this.headers });
  }
}
