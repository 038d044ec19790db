"""Spoken-command recognition: audio decoding, log-mel features, augmentation and dataset readers."""
