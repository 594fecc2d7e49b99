# Corpus roots for the real adapters (local/data.sh --corpus NAME). Edit to your site.
# The default corpus `mini` is synthesised on the spot and needs no root.
KSPON=${KSPON:-downloads/kspon}          # --corpus dual (Korean): KsponSpeech-style .trn + audio
L2EN_DUAL=${L2EN_DUAL:-downloads/l2en_dual}  # --corpus dual (English)
L2ARCTIC=${L2ARCTIC:-downloads/l2arctic}  # --corpus l2arctic: <SPK>/{wav,transcript,annotation}
SPEECHOCEAN762=${SPEECHOCEAN762:-downloads/speechocean762}  # --corpus speechocean762: WAVE/ train/ test/ resource/
MANIFEST=${MANIFEST:-}                   # --corpus manifest: utt_id wav speaker surface meaning [split]
