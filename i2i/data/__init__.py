"""tf.data pipelines and dataset builders (paired, unpaired, super-resolution)."""
