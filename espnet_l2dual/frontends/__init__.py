"""Front ends registered in the task beside ESPnet's own (``--frontend ssl``)."""
