"""The live interpreter: phrases cut from a stream, translated and spoken as they end."""
