"""recognize: CNN + bidirectional RNN + CTC recognizers for text lines, speech and music scores."""
__version__ = "0.1.0"
