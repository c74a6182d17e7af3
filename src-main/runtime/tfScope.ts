import * as tf from '@tensorflow/tfjs';

/** runs `fn` in a tfjs scope: tensors it creates and does not keep (or return) are disposed */
export async function scoped<T>(fn: () => Promise<T> | T): Promise<T> {
  tf.engine().startScope();
  try {
    return await fn();
  } finally {
    tf.engine().endScope();
  }
}

/** `scoped` for synchronous work */
export function scopedSync<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}
