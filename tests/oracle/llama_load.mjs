#!/usr/bin/env node
// Loads a GGUF with llama.cpp's own loader (node-llama-cpp's libllama, CPU) and prints what it read:
// used to prove that files `pocket convert` writes for architectures pocket does not run itself (the
// gemma4-assistant MTP drafter) are accepted by llama.cpp. No context is created (a drafter's context
// needs its target's).
//
//   node llama_load.mjs MODEL.gguf [--expect-arch NAME]
//
// Exit 0 when llama.cpp loads the file (and general.architecture is NAME), 1 otherwise; llama.cpp's own
// error is printed.
import process from "node:process";

async function main() {
  const [model, flag, expectArch] = process.argv.slice(2);
  if (!model || (flag && flag !== "--expect-arch")) {
    process.stderr.write("usage: node llama_load.mjs MODEL.gguf [--expect-arch NAME]\n");
    process.exit(2);
  }
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error });
  let m;
  try {
    m = await llama.loadModel({ modelPath: model, gpuLayers: 0 });
  } catch (e) {
    process.stderr.write(`llama_load: llama.cpp refused ${model}: ${e.message}\n`);
    process.exit(1);
  }
  const arch = m.fileInfo.metadata.general.architecture;
  console.log(`llama_load: llama.cpp loaded ${model}: architecture ${arch}, ${m.fileInfo.tensorInfo?.length ?? "?"} ` +
              `tensors, ${m.size} bytes, vocab ${m.tokens.bos !== undefined ? "ok" : "?"}, train ctx ${m.trainContextSize}`);
  await m.dispose();
  if (expectArch && arch !== expectArch) {
    process.stderr.write(`llama_load: architecture ${arch}, expected ${expectArch}\n`);
    process.exit(1);
  }
}

main().catch((e) => {
  process.stderr.write(`llama_load: ${e.stack ?? e}\n`);
  process.exit(1);
});
