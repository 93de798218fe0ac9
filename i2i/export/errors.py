"""Export errors, and naming the layer a format cannot represent.

A converter that refuses a model reports TensorFlow op names (`model/conv_3/Erfinv`) or
Keras layer classes in its message; `UnsupportedModelError` names the layers instead, so
a user knows what to replace: `TFLite (built-in ops) cannot represent layer
'inverse_erf' (InverseErf): it has no Erfinv op`.
"""

from __future__ import annotations

import re

from i2i.common import I2IError, first_line


class ExportError(I2IError):
    """An export failed or was refused; `str(error)` is one line for the user."""


class UnsupportedModelError(ExportError):
    """The format has no equivalent for some layer's operations.

    Attributes:
        format: the export format.
        layers: names of the offending layers (empty if they could not be told).
        ops: the operation types the format lacks.
    """

    def __init__(self, message, format: str, layers=(), ops=()):
        super().__init__(message)
        self.format = format
        self.layers = tuple(layers)
        self.ops = tuple(ops)


def tflite_error(model, error) -> ExportError:
    text = str(error)
    ops = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", text)))
    if not ops:
        return ExportError(f"tflite: conversion failed: {first_line(error)}")
    # Locations read fused["Erfinv:", callsite("model/layer_1/erfinv/Erfinv@__inference...
    pattern = r'fused\["(\w+):", (?:callsite\()?"([^"@]+)@'
    names = [name for kind, name in re.findall(pattern, text) if kind in ops]
    layers = layers_for_ops(model, names)
    return UnsupportedModelError(
        unsupported_message("TFLite (built-in ops)", ops, layers), "tflite", layers, ops
    )


def unsupported_message(format_name: str, ops, layers) -> str:
    op_text = ", ".join(ops)
    if layers:
        return (
            f"{format_name} cannot represent layer {layer_names(layers)}: it has no {op_text} "
            "op (export another format, or replace that layer)"
        )
    return f"{format_name} cannot represent the model: it has no {op_text} op"


def all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from all_layers(layer)


def layers_for_ops(model, op_names) -> list:
    """The layers TensorFlow op names such as `model_1/conv_3/Conv2D` belong to."""
    known = {layer.name: layer for layer in all_layers(model)}
    found = []
    for op_name in op_names:
        match = None
        for part in op_name.split("/")[:-1]:
            for candidate in (part, re.sub(r"_\d+$", "", part)):
                if candidate in known:
                    match = known[candidate]  # the innermost layer wins
                    break
        if match is not None and match not in found:
            found.append(match)
    return found


def layers_in(model, text: str) -> list:
    """The layers an error message is about: Keras names the failing layer's class
    ("when calling UpSampling2D.call()"); else layer names quoted in the message."""
    layers = list(all_layers(model))
    calling = re.findall(r"calling (\w+)\.call\(\)", text)
    if calling:
        return [layer for layer in layers if type(layer).__name__ == calling[-1]]
    return [layer for layer in layers if re.search(rf"['\"`]{re.escape(layer.name)}['\"`]", text)]


def layer_names(layers) -> str:
    return ", ".join(f"{layer.name!r} ({type(layer).__name__})" for layer in layers)
