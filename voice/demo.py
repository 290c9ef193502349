"""Demo data for voice (local records only; nothing is sent to BICS). Idempotent: records are
found again by their name or URL."""

from django.core.files.base import ContentFile

from voice.models import BulkCall, Call, SoundFile

SOUND_URL = "https://example.org/sounds/welcome.mp3"
TTS_NAME = "Demo: birthday wishes (TTS)"
BULK_NAME = "Demo: spring promotion (flow with variables)"
BULK_LIST = "number,Name\n+32470000301,Ann\n+32470000302,Bram\n+32470000303,Chloé\n"


def seed(stdout):
    sound, created = SoundFile.objects.get_or_create(
        url=SOUND_URL, defaults={"name": "Demo: welcome message", "content_type": "audio/mpeg"})
    made = int(created)
    if not Call.objects.filter(name=TTS_NAME).exists():
        Call.objects.create(kind=Call.Kind.TTS, name=TTS_NAME, bridge="+3225550100", to="+32470000300",
                            voice_id="Amy", tts_options={"iteration": 2},
                            tts_text='Happy birthday! <break time="1s"/> Whatever you wish, may it be fulfilled.')
        made += 1
    if not BulkCall.objects.filter(name=BULK_NAME).exists():
        bulk = BulkCall(name=BULK_NAME, mode=BulkCall.Mode.FLOW_VARIABLES, bridge="+3225550100", flow_id="191",
                        audience_kind=BulkCall.AudienceKind.UPLOAD, batch_size=2)
        bulk.upload.save("demo-voice-list.csv", ContentFile(BULK_LIST.encode()), save=False)
        bulk.save()
        made += 1
    stdout.write(f"voice: {made} demo record(s) added (sound file {sound.name!r}, a TTS call, a bulk call draft).")
