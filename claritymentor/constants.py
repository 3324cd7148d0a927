"""Numbers more than one module (or the page's player) must agree on, defined once."""

SAMPLE_RATE = 16000  # Hz: every clip inside the pipeline (Silero VAD and Whisper need it)
PIECE_GAP_S = 0.12  # s of silence between reply pieces: in the joined reply and in the page's player
MAX_TEXT_CHARS = 2000  # the longest typed message (the text box and the pipeline's check)
