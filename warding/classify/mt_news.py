"""A neutral news report about ISIS online recruitment, for the model card's translation check.

Written for this project as plain journalism (a factual report in a news
register: researchers, police and platforms; no slogans, no quotes from
propaganda) and followed by the share-button boilerplate that news pages carry.
No machine translation is available offline, so the English text was
translated by hand into the six other languages of the parallel set, keeping
the sentence structure close to the English (as a machine translation would)
rather than idiomatic. The check: none of these versions may be flagged.
"""

from __future__ import annotations

MT_NEWS: dict[str, str] = {
    "en": (
        "Researchers at a European university published a report on Tuesday on how the "
        "Islamic State group recruited young people online. The study of thousands of public "
        "accounts found that recruiters first contacted teenagers on open social networks and "
        "then moved the conversations to encrypted messaging apps. Police said several networks "
        "were dismantled last year and asked parents and teachers to watch for warning signs. "
        "The platforms said they had removed accounts that broke their rules.\n"
        "Share on Facebook | Share on X | Share on WhatsApp | Email | Print | Copy link"
    ),
    "fr": (
        "Des chercheurs d'une université européenne ont publié mardi un rapport sur la manière "
        "dont le groupe État islamique a recruté des jeunes en ligne. L'étude de milliers de "
        "comptes publics a montré que les recruteurs contactaient d'abord des adolescents sur "
        "des réseaux sociaux ouverts, puis déplaçaient les conversations vers des messageries "
        "chiffrées. La police a indiqué que plusieurs réseaux ont été démantelés l'année "
        "dernière et a demandé aux parents et aux enseignants d'être attentifs aux signes "
        "d'alerte. Les plateformes ont déclaré avoir supprimé les comptes qui enfreignaient "
        "leurs règles.\n"
        "Partager sur Facebook | Partager sur X | Partager sur WhatsApp | E-mail | Imprimer | "
        "Copier le lien"
    ),
    "de": (
        "Forscher einer europäischen Universität haben am Dienstag einen Bericht darüber "
        "veröffentlicht, wie die Gruppe Islamischer Staat junge Menschen online rekrutiert hat. "
        "Die Studie über Tausende öffentliche Konten ergab, dass Anwerber zuerst Jugendliche in "
        "offenen sozialen Netzwerken kontaktierten und die Gespräche dann in verschlüsselte "
        "Messenger-Apps verlagerten. Die Polizei sagte, im vergangenen Jahr seien mehrere "
        "Netzwerke zerschlagen worden, und bat Eltern und Lehrer, auf Warnzeichen zu achten. "
        "Die Plattformen erklärten, sie hätten Konten entfernt, die gegen ihre Regeln "
        "verstießen.\n"
        "Auf Facebook teilen | Auf X teilen | Auf WhatsApp teilen | E-Mail | Drucken | "
        "Link kopieren"
    ),
    "es": (
        "Investigadores de una universidad europea publicaron el martes un informe sobre cómo "
        "el grupo Estado Islámico reclutó a jóvenes en internet. El estudio de miles de cuentas "
        "públicas reveló que los reclutadores contactaban primero con adolescentes en redes "
        "sociales abiertas y después trasladaban las conversaciones a aplicaciones de mensajería "
        "cifrada. La policía dijo que varias redes fueron desmanteladas el año pasado y pidió a "
        "padres y profesores que estén atentos a las señales de alerta. Las plataformas "
        "afirmaron haber eliminado las cuentas que incumplían sus normas.\n"
        "Compartir en Facebook | Compartir en X | Compartir en WhatsApp | Correo | Imprimir | "
        "Copiar enlace"
    ),
    "ar": (
        "نشر باحثون في جامعة أوروبية يوم الثلاثاء تقريرا عن الطريقة التي جند بها تنظيم الدولة "
        "الإسلامية الشباب عبر الإنترنت. ووجدت الدراسة التي شملت آلاف الحسابات العامة أن المجندين "
        "كانوا يتواصلون أولا مع المراهقين على شبكات التواصل الاجتماعي المفتوحة ثم ينقلون المحادثات "
        "إلى تطبيقات مراسلة مشفرة. وقالت الشرطة إنه تم تفكيك عدة شبكات في العام الماضي، وطلبت من "
        "الآباء والمعلمين الانتباه إلى علامات الخطر. وقالت المنصات إنها حذفت الحسابات التي خالفت "
        "قواعدها.\n"
        "شارك على فيسبوك | شارك على إكس | شارك على واتساب | البريد الإلكتروني | طباعة | نسخ الرابط"
    ),
    "ru": (
        "Исследователи одного европейского университета во вторник опубликовали доклад о том, "
        "как группировка «Исламское государство» вербовала молодых людей в интернете. "
        "Исследование тысяч открытых аккаунтов показало, что вербовщики сначала связывались с "
        "подростками в открытых социальных сетях, а затем переводили разговоры в зашифрованные "
        "мессенджеры. В полиции сообщили, что в прошлом году были ликвидированы несколько сетей, "
        "и попросили родителей и учителей обращать внимание на тревожные признаки. Платформы "
        "заявили, что удалили аккаунты, нарушавшие их правила.\n"
        "Поделиться в Facebook | Поделиться в X | Поделиться в WhatsApp | Эл. почта | Печать | "
        "Скопировать ссылку"
    ),
    "tr": (
        "Bir Avrupa üniversitesindeki araştırmacılar salı günü, İslam Devleti örgütünün gençleri "
        "internet üzerinden nasıl devşirdiğine dair bir rapor yayımladı. Binlerce herkese açık "
        "hesabı inceleyen çalışma, devşiricilerin önce açık sosyal ağlarda gençlerle iletişime "
        "geçtiğini, ardından konuşmaları şifreli mesajlaşma uygulamalarına taşıdığını ortaya "
        "koydu. Polis, geçen yıl birkaç ağın çökertildiğini söyledi ve ebeveynlerden ve "
        "öğretmenlerden uyarı işaretlerine dikkat etmelerini istedi. Platformlar, kurallarını "
        "ihlal eden hesapları kaldırdıklarını açıkladı.\n"
        "Facebook'ta paylaş | X'te paylaş | WhatsApp'ta paylaş | E-posta | Yazdır | Bağlantıyı "
        "kopyala"
    ),
}
