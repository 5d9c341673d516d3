// Voice notes: MediaRecorder into Opus (WebM or Ogg, whichever the browser makes); the
// server re-encodes to Opus/Ogg and computes the duration and waveform itself.

export interface Recording {
  stop(): Promise<{ blob: Blob; duration: number }>;
  cancel(): void;
}

function bestType(): string {
  for (const type of ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"])
    if (MediaRecorder.isTypeSupported(type)) return type;
  return "";
}

export async function startRecording(): Promise<Recording> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const type = bestType();
  const recorder = new MediaRecorder(stream, type ? { mimeType: type, audioBitsPerSecond: 32_000 } : undefined);
  const parts: Blob[] = [];
  const started = performance.now();
  recorder.ondataavailable = (e) => e.data.size && parts.push(e.data);
  recorder.start(250);
  const release = () => stream.getTracks().forEach((tr) => tr.stop());
  return {
    stop: () =>
      new Promise((ok) => {
        recorder.onstop = () => {
          release();
          ok({ blob: new Blob(parts, { type: recorder.mimeType || type }), duration: (performance.now() - started) / 1000 });
        };
        recorder.stop();
      }),
    cancel: () => {
      recorder.onstop = release;
      recorder.stop();
    },
  };
}
