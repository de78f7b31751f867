"""One thin script per DVC stage: read params and inputs, call the library, write outputs atomically."""
