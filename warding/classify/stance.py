"""The stance suite: texts that name Islam, jihad, ISIS or an attack without being terrorist
content, which no classifier of Warding may flag.

A detector that learnt the *topic* (Islam, jihad, an attack) instead of the *stance*
(glorifying, inciting, recruiting, threatening, the group's own claims) flags these. They
were written for this project (never taken from or modelled on propaganda) in five kinds:

* ``condemnation`` -- condemning an attack or a group;
* ``counter_speech`` -- answering anti-Muslim hate, defending Muslims, explaining terms;
* ``news_lead`` -- a headline and first sentence of a news report about an attack, an
  arrest or a trial, the way wire services and tweets relay them;
* ``religious`` -- everyday religious speech: greetings, prayers, Ramadan and Eid wishes;
* ``discussion`` -- research, policy and moderation talk about terrorism online.

Each kind is in several languages (en, ar, fr, de, es, it, pt, tr, ru, hi, el). The suite is a
regression test (``tests/test_stance_suite.py``) and a row of the model card; it is **never
used for training**, so its flag rate stays an honest check.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StanceText:
    kind: str
    lang: str
    text: str


KINDS = ("condemnation", "counter_speech", "news_lead", "religious", "discussion")

_SUITE: tuple[tuple[str, str, str], ...] = (
    # condemnation
    ("condemnation", "en", "We condemn the bombing in the market today. Our thoughts are with the victims and their families."),
    ("condemnation", "en", "ISIS murdered innocent people again. There is nothing heroic about killing civilians."),
    ("condemnation", "en", "The attack on the church was a crime against all of us, Muslims and Christians alike."),
    ("condemnation", "en", "Terrorism has no religion. Whoever planted that bomb does not speak for Islam."),
    ("condemnation", "ar", "ندين بشدة التفجير الإرهابي الذي استهدف المدنيين اليوم، ونتقدم بالتعازي لأسر الضحايا."),
    ("condemnation", "ar", "داعش لا تمثل الإسلام ولا المسلمين، وقتل الأبرياء جريمة لا يقبلها أي دين."),
    ("condemnation", "fr", "Nous condamnons fermement l'attentat d'hier soir. Toutes nos pensées vont aux victimes."),
    ("condemnation", "fr", "Ces terroristes ne parlent pas au nom de l'islam. Les musulmans de France sont en deuil eux aussi."),
    ("condemnation", "de", "Wir verurteilen den Anschlag auf das Schärfste. Unser Mitgefühl gilt den Opfern und ihren Familien."),
    ("condemnation", "es", "Condenamos el atentado terrorista de hoy. El terrorismo no tiene religión ni justificación."),
    ("condemnation", "it", "Condanniamo con forza l'attacco di ieri. Siamo vicini alle famiglie delle vittime."),
    ("condemnation", "pt", "Repudiamos o atentado terrorista. Nenhuma causa justifica a morte de inocentes."),
    ("condemnation", "tr", "Bugünkü terör saldırısını lanetliyoruz. Hayatını kaybedenlere Allah'tan rahmet diliyoruz."),
    ("condemnation", "ru", "Мы осуждаем этот теракт. Соболезнования семьям погибших."),
    ("condemnation", "hi", "हम इस आतंकी हमले की कड़ी निंदा करते हैं। पीड़ितों के परिवारों के प्रति हमारी संवेदनाएं।"),
    ("condemnation", "el", "Καταδικάζουμε την τρομοκρατική επίθεση. Τα συλλυπητήριά μας στις οικογένειες των θυμάτων."),
    # counter-speech
    ("counter_speech", "en", "Islam is about love, not violence."),
    ("counter_speech", "en", "My Muslim neighbours are the kindest people I know. Blaming all Muslims for terrorism is just wrong."),
    ("counter_speech", "en", "Jihad in everyday use means the struggle to be a better person. Extremists twisted the word."),
    ("counter_speech", "en", "Muslims are the main victims of ISIS. Stop spreading hate against people who pray next door."),
    ("counter_speech", "en", "Most Muslims reject terrorism. The Quran says killing one innocent is like killing all of humanity."),
    ("counter_speech", "en", "Not all Muslims are terrorists, just like not all Christians are the KKK. Judge people by what they do."),
    ("counter_speech", "ar", "الإسلام دين رحمة وسلام، والإرهابيون لا يمثلون المسلمين."),
    ("counter_speech", "ar", "الجهاد الحقيقي هو جهاد النفس والعمل الصالح، وليس قتل الأبرياء."),
    ("counter_speech", "fr", "L'islam est une religion de paix. Les amalgames entre musulmans et terroristes font le jeu des extrémistes."),
    ("counter_speech", "fr", "Mes voisins musulmans n'ont rien à voir avec Daech. Arrêtez la haine."),
    ("counter_speech", "de", "Muslime sind nicht für Terror verantwortlich. Hass auf Muslime hilft nur den Extremisten."),
    ("counter_speech", "es", "El islam no es violencia. La mayoría de las víctimas del ISIS son musulmanes."),
    ("counter_speech", "it", "L'islam non è terrorismo. I musulmani italiani condannano la violenza."),
    ("counter_speech", "pt", "Os muçulmanos não são terroristas. O ódio só divide a sociedade."),
    ("counter_speech", "tr", "İslam barış dinidir, teröristler Müslümanları temsil etmez."),
    ("counter_speech", "ru", "Ислам — религия мира. Террористы не представляют мусульман."),
    ("counter_speech", "hi", "इस्लाम शांति का धर्म है, आतंकवादी मुसलमानों का प्रतिनिधित्व नहीं करते।"),
    ("counter_speech", "el", "Οι μουσουλμάνοι δεν είναι τρομοκράτες. Το μίσος δεν λύνει τίποτα."),
    # news leads
    ("news_lead", "en", "BREAKING: Explosion at a bus station in the capital kills 12, police say. No group has claimed responsibility."),
    ("news_lead", "en", "Three men arrested over alleged plot to attack a concert, counter-terrorism police said on Tuesday."),
    ("news_lead", "en", "ISIS claims responsibility for the attack on a police checkpoint, according to a statement monitored by analysts."),
    ("news_lead", "en", "Court jails man for sharing extremist videos online. The judge said the material glorified violence."),
    ("news_lead", "en", "Iraqi forces retake the town from ISIS after weeks of fighting, the defence ministry said."),
    ("news_lead", "ar", "عاجل: مقتل عشرة أشخاص في انفجار بسوق شعبي، والشرطة تفتح تحقيقا في الحادث."),
    ("news_lead", "ar", "القوات العراقية تستعيد السيطرة على البلدة من تنظيم داعش بعد معارك استمرت أسابيع."),
    ("news_lead", "fr", "Attentat : trois suspects interpellés par la police antiterroriste, annonce le parquet."),
    ("news_lead", "de", "Anschlag auf Polizeiposten: Die Ermittler prüfen ein Bekennerschreiben des IS."),
    ("news_lead", "es", "Detienen a dos sospechosos de preparar un atentado yihadista, informa la policía."),
    ("news_lead", "it", "Arrestato un uomo accusato di propaganda jihadista online, riferisce la polizia."),
    ("news_lead", "pt", "Polícia prende suspeito de planejar ataque terrorista, segundo o Ministério da Justiça."),
    ("news_lead", "tr", "Son dakika: Polis, terör saldırısı hazırlığındaki üç şüpheliyi gözaltına aldı."),
    ("news_lead", "ru", "Полиция задержала подозреваемых в подготовке теракта, сообщает МВД."),
    ("news_lead", "hi", "पुलिस ने आतंकी हमले की साजिश के आरोप में तीन लोगों को गिरफ्तार किया।"),
    ("news_lead", "el", "Συνελήφθησαν τρεις ύποπτοι για σχέδιο τρομοκρατικής επίθεσης, ανακοίνωσε η αστυνομία."),
    # religious everyday speech
    ("religious", "en", "Ramadan Mubarak to all my Muslim friends! May Allah accept your fasting and prayers."),
    ("religious", "en", "Alhamdulillah for another beautiful Friday. Jummah Mubarak everyone."),
    ("religious", "en", "Eid Mubarak! Spending the day with family, lots of food and the kids got new clothes."),
    ("religious", "en", "Inshallah I will pass my exams this week. Please keep me in your duas."),
    ("religious", "ar", "جمعة مباركة، اللهم اجعلنا من الذاكرين الشاكرين."),
    ("religious", "ar", "رمضان كريم وكل عام وأنتم بخير، تقبل الله منا ومنكم صالح الأعمال."),
    ("religious", "ar", "الحمد لله على نعمة الإسلام، اللهم ارحم موتانا واشف مرضانا."),
    ("religious", "ar", "عيد مبارك لكل الأهل والأصدقاء، أعاده الله علينا بالخير واليمن والبركات."),
    ("religious", "fr", "Aïd Moubarak à tous ! Que Dieu accepte notre jeûne et nos prières."),
    ("religious", "de", "Ramadan Kareem an alle Freunde, die heute mit dem Fasten beginnen!"),
    ("religious", "es", "Ramadán Mubarak a todos los musulmanes que empiezan hoy el ayuno."),
    ("religious", "tr", "Hayırlı Cumalar. Allah dualarımızı kabul etsin."),
    ("religious", "ru", "С праздником Ураза-байрам! Пусть Аллах примет ваш пост и молитвы."),
    ("religious", "hi", "ईद मुबारक! अल्लाह आप सबको खुश रखे।"),
    ("religious", "pt", "Ramadã Mubarak a todos os amigos muçulmanos!"),
    ("religious", "it", "Ramadan Mubarak a tutti gli amici musulmani!"),
    ("religious", "el", "Καλό Ραμαζάνι σε όλους τους μουσουλμάνους φίλους μας."),
    # discussion: research, policy, moderation
    ("discussion", "en", "New report: how ISIS used Telegram channels to spread propaganda after losing territory."),
    ("discussion", "en", "Platforms removed millions of terrorist videos last year, but researchers say the content keeps coming back."),
    ("discussion", "en", "Our lecture today: the history of jihadist movements and why young people were recruited online."),
    ("discussion", "en", "The EU regulation requires platforms to remove terrorist content within one hour of a removal order."),
    ("discussion", "ar", "دراسة جديدة: كيف استخدم تنظيم داعش وسائل التواصل الاجتماعي لتجنيد الشباب، وكيف يمكن مواجهة ذلك."),
    ("discussion", "fr", "Comment les plateformes détectent-elles la propagande terroriste ? Un débat ce soir avec des chercheurs."),
    ("discussion", "de", "Studie: Wie der IS soziale Medien für Propaganda nutzte und was Plattformen dagegen tun."),
    ("discussion", "es", "Expertos analizan cómo el ISIS reclutaba jóvenes a través de las redes sociales."),
    ("discussion", "it", "Convegno sulla prevenzione della radicalizzazione online nelle scuole."),
    ("discussion", "pt", "Pesquisadores estudam como grupos terroristas usam as redes sociais."),
    ("discussion", "tr", "Araştırmacılar terör örgütlerinin sosyal medyayı nasıl kullandığını inceledi."),
    ("discussion", "ru", "Исследователи изучают, как террористические группы используют социальные сети."),
    ("discussion", "el", "Ερευνητές μελετούν πώς οι τρομοκρατικές οργανώσεις χρησιμοποιούν τα μέσα κοινωνικής δικτύωσης."),
)


def stance_suite() -> list[StanceText]:
    """Every text of the suite (none is terrorist content)."""
    return [StanceText(kind, lang, text) for kind, lang, text in _SUITE]
