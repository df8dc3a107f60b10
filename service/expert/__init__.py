"""The pretrained language expert: Whisper base (multilingual) run with faster-whisper.

``songid-expert fetch`` puts a verified expert folder in place (pinned SHA-256 per file, a
provenance document beside them); :class:`service.expert.model.LanguageExpert` loads it and
gives language probabilities for a decoded window of audio. Nothing is downloaded at request
time, and nothing here imports the web framework.
"""
