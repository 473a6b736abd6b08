"""Console scripts: dnn-train, dnn-sweep, dnn-reproduce, dnn-ui."""
