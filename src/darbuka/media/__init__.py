"""Media: blob stores, type sniffing, image/audio/video processing, hashes for safety."""
