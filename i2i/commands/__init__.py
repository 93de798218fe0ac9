"""Click commands, one module per command group, added to the `i2i` group in i2i/cli.py.

Command modules import only click and the standard library at module level; TensorFlow,
Keras and OpenCV are imported inside command bodies so `i2i --help` stays instant.
"""
