#!/usr/bin/env python3
"""Checks ONNX files with the official ONNX checker and shape inference.

Usage: python3 scripts/onnx_check.py FILE.onnx [FILE.onnx ...]

For each file, prints one JSON line:
  {"file", "ok", "checker", "shape_inference", "ir_version", "opset", "onnx_version", "error"?}
- checker: onnx.checker.check_model(model, full_check=True)
- shape_inference: onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
Exit status 0 when every file passes, 1 otherwise, 2 when onnx cannot be imported.
"""
import json
import sys

try:
    import onnx
    from onnx import checker, shape_inference
except Exception as e:  # pragma: no cover
    print(json.dumps({"ok": False, "error": "cannot import onnx: %s" % e}))
    sys.exit(2)


def check(path):
    out = {"file": path, "ok": False, "checker": "not run", "shape_inference": "not run", "onnx_version": onnx.__version__}
    try:
        model = onnx.load(path)
        out["ir_version"] = model.ir_version
        out["opset"] = {(o.domain or "ai.onnx"): o.version for o in model.opset_import}
    except Exception as e:
        out["error"] = "load: %s" % e
        return out
    try:
        checker.check_model(model, full_check=True)
        out["checker"] = "ok"
    except Exception as e:
        out["checker"] = "failed"
        out["error"] = "checker: %s" % e
        return out
    try:
        shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        out["shape_inference"] = "ok"
    except Exception as e:
        out["shape_inference"] = "failed"
        out["error"] = "shape inference: %s" % e
        return out
    out["ok"] = True
    return out


def main(paths):
    ok = True
    for p in paths:
        r = check(p)
        ok = ok and r["ok"]
        print(json.dumps(r), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
