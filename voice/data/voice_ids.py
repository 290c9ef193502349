"""The 36 AWS Polly voices documented for text-to-speech (Voice › Text to Speech, voice ids): id, language, gender.

`Dóra/Dora` and `Inês/Ines` are printed with two spellings; we send the accented
spelling, as printed first.
"""

VOICES: tuple[tuple[str, str, str], ...] = (
    ("Aditi", "Hindi", "Female"),
    ("Raveena", "English", "Female"),
    ("Zeina", "Arabic", "Female"),
    ("Hala", "Arabic (Gulf)", "Female"),
    ("Arlet", "Catalan", "Female"),
    ("Hiujin", "Chinese (Cantonese)", "Female"),
    ("Zhiyu", "Chinese (Mandarin)", "Female"),
    ("Naja", "Danish", "Female"),
    ("Laura", "Dutch", "Female"),
    ("Nicole", "English (Australian)", "Female"),
    ("Amy", "English (British)", "Female"),
    ("Aria", "English (New Zealand)", "Female"),
    ("Ayanda", "English (South African)", "Female"),
    ("Kendra", "English (US)", "Female"),
    ("Geraint", "English (Welsh)", "Male"),
    ("Suvi", "Finnish", "Female"),
    ("Léa", "French", "Female"),
    ("Chantal", "French (Canadian)", "Female"),
    ("Marlene", "German", "Female"),
    ("Hans", "German", "Male"),
    ("Dóra", "Icelandic", "Female"),
    ("Carla", "Italian", "Female"),
    ("Mizuki", "Japanese", "Female"),
    ("Seoyeon", "Korean", "Female"),
    ("Liv", "Norwegian", "Female"),
    ("Ewa", "Polish", "Female"),
    ("Camila", "Portuguese (Brazilian)", "Female"),
    ("Inês", "Portuguese (European)", "Female"),
    ("Carmen", "Romanian", "Female"),
    ("Tatyana", "Russian", "Female"),
    ("Conchita", "Spanish (European)", "Female"),
    ("Mia", "Spanish (Mexican)", "Female"),
    ("Lupe", "Spanish (US)", "Female"),
    ("Astrid", "Swedish", "Female"),
    ("Filiz", "Turkish", "Female"),
    ("Gwyneth", "Welsh", "Female"),
)

VOICE_CHOICES = [(vid, f"{vid} — {language}, {gender.lower()}") for vid, language, gender in VOICES]
VOICE_IDS = frozenset(v[0] for v in VOICES)


def describe(voice_id: str) -> str:
    for vid, language, gender in VOICES:
        if vid == voice_id:
            return f"{language}, {gender.lower()}"
    return ""
