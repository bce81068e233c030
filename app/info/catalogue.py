"""The service catalogue (area: info): the seed texts of the core services in all eight
locales, and JSON export/import of a catalogue shaped on Open Referral HSDS.

Seed texts are general and true across Swedish municipalities; a municipality adds its own
address, phone and opening hours. Swedish is the source and is marked reviewed; the other
locales are drafts until a person who reads them checks them.

Export/import shape (HSDS 3 field names where they fit):

    {"format": "bro-hsds", "version": 1,
     "organization": {"id": <slug>, "name": ...},
     "services": [{"id": <slug>, "name", "description", "eligibility_description",
                   "application_process", "url", "email", "status": "active"|"inactive",
                   "phones": [{"number"}], "schedules": [{"description"}],
                   "locations": [{"addresses": [{"address_1"}]}],
                   "x_bro": {"pictogram", "sort_order"},
                   "translations": {<locale>: {"name", "description", "eligibility_description",
                                               "application_process", "status"}}}]}

Round trip: importing an export into an organisation and exporting again gives the same JSON.
Audio files are not part of the JSON (they are files, and stay with the translation).
"""

import json
import re
from dataclasses import dataclass, field

import click
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .. import audit
from ..choices import TranslationStatus
from ..extensions import db
from ..i18n import DEFAULT_LOCALE, LOCALES
from ..models import Organisation, Service, ServiceTranslation
from ..text_input import clean_text

FORMAT = "bro-hsds"
VERSION = 1
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PICTOGRAMS = (
    "sfi.svg",
    "so.svg",
    "forskola.svg",
    "employment.svg",
    "guidance.svg",
    "parenting.svg",
    "service.svg",
)
WEB_URL_RE = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
# Column lengths of the model, checked before anything is written.
LIMITS = {"url": 300, "email": 254, "phone": 40, "address": 300, "opening_hours": 300}
NAME_MAX = 120
TEXT_KEYS = ("name", "description", "eligibility_description", "application_process")
TEXT_MAX = 4000

# slug -> (pictogram, sort order, link)
CORE_SERVICES = {
    "sfi": ("sfi.svg", 10, "https://www.informationsverige.se/"),
    "so": ("so.svg", 20, "https://www.informationsverige.se/"),
    "forskola": ("forskola.svg", 30, ""),
    "employment": ("employment.svg", 40, "https://arbetsformedlingen.se/"),
    "guidance": ("guidance.svg", 50, ""),
    "parenting": ("parenting.svg", 60, ""),
}

# slug -> locale -> (name, summary, who can get it, how to start). Short sentences, plain words.
CORE_TEXTS: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "sfi": {
        "sv": (
            "SFI – svenska för invandrare",
            "SFI är en kurs i svenska för vuxna. Kursen är gratis. Du lär dig att prata, läsa och "
            "skriva svenska. Det finns kurser på dagen, på kvällen och på distans.",
            "Du kan gå SFI om du är minst 16 år och bor i kommunen. Du ska ha ett personnummer. "
            "Du kan börja även om du inte kan läsa eller skriva.",
            "Kontakta kommunens vuxenutbildning. Personalen här kan hjälpa dig. Först pratar du "
            "med en lärare eller vägledare. Sedan får du börja på rätt nivå.",
        ),
        "en": (
            "SFI – Swedish for immigrants",
            "SFI is a Swedish course for adults. The course is free. You learn to speak, read and "
            "write Swedish. There are courses in the daytime, in the evening and online.",
            "You can take SFI if you are at least 16 and live in the municipality. You need a "
            "Swedish personal identity number. You can start even if you cannot read or write.",
            "Contact the municipality's adult education. The staff here can help you. First you "
            "talk with a teacher or adviser. Then you start at the right level.",
        ),
        "ar": (
            "SFI – اللغة السويدية للمهاجرين",
            "SFI دورة لتعلّم اللغة السويدية للبالغين. الدورة مجانية. تتعلّم التحدث والقراءة والكتابة "
            "بالسويدية. توجد دورات في النهار وفي المساء وعن بُعد.",
            "يمكنك الدراسة في SFI إذا كان عمرك 16 سنة على الأقل وتسكن في البلدية. يجب أن يكون لديك "
            "رقم شخصي. يمكنك البدء حتى لو كنت لا تعرف القراءة أو الكتابة.",
            "تواصل مع تعليم الكبار في البلدية. يمكن للموظفين هنا مساعدتك. أولاً تتحدث مع معلّم أو "
            "مرشد. بعد ذلك تبدأ في المستوى المناسب لك.",
        ),
        "fa": (
            "SFI – زبان سوئدی برای مهاجران",
            "SFI دوره آموزش زبان سوئدی برای بزرگسالان است. این دوره رایگان است. شما صحبت کردن، "
            "خواندن و نوشتن به سوئدی را یاد می‌گیرید. دوره‌های روزانه، شبانه و از راه دور وجود دارد.",
            "اگر حداقل ۱۶ سال دارید و در این کمون زندگی می‌کنید، می‌توانید به SFI بروید. باید شماره "
            "شخصی داشته باشید. حتی اگر خواندن و نوشتن بلد نیستید، می‌توانید شروع کنید.",
            "با آموزش بزرگسالان کمون تماس بگیرید. کارکنان اینجا می‌توانند به شما کمک کنند. اول با "
            "یک معلم یا مشاور صحبت می‌کنید. بعد در سطح مناسب شروع می‌کنید.",
        ),
        "so": (
            "SFI – Af iswiidhish ee soo-galootiga",
            "SFI waa koorso af iswiidhish ah oo loogu talagalay dadka waaweyn. Koorsadu waa "
            "bilaash. Waxaad baranaysaa inaad ku hadasho, akhrido oo qorto af iswiidhish. "
            "Koorsooyin ayaa jira maalintii, fiidkii iyo online.",
            "Waad geli kartaa SFI haddii aad tahay ugu yaraan 16 sano oo aad ku nooshahay "
            "degmada. Waa inaad leedahay lambarka shakhsiga ah. Waad bilaabi kartaa xitaa haddii "
            "aadan akhrin ama qorin karin.",
            "La xiriir waxbarashada dadka waaweyn ee degmada. Shaqaalaha halkan ayaa ku caawin "
            "kara. Marka hore waxaad la hadlaysaa macallin ama lataliye. Kadib waxaad ka "
            "bilaabaysaa heerka kuu habboon.",
        ),
        "ti": (
            "SFI – ሽወደንኛ ንስደተኛታት",
            "SFI ንዓበይቲ ናይ ሽወደንኛ ቋንቋ ትምህርቲ እዩ። እቲ ትምህርቲ ብነጻ እዩ። ሽወደንኛ ምዝራብ፡ ምንባብን "
            "ምጽሓፍን ትመሃሩ። ብመዓልቲ፡ ብምሸትን ብርሑቕን ትምህርቲ ኣሎ።",
            "ዕድሜኹም እንተወሓደ 16 ዓመት እንተኾይኑን ኣብቲ ኮሙን እንተቐሚጥኩምን SFI ክትመሃሩ ትኽእሉ። "
            "ናይ ውልቂ ቁጽሪ (personnummer) ክህልወኩም ኣለዎ። ምንባብን ምጽሓፍን እንተዘይክኢልኩም'ውን ክትጅምሩ ትኽእሉ።",
            "ምስ ትምህርቲ ዓበይቲ ናይቲ ኮሙን ተራኸቡ። ኣብዚ ዘለዉ ሰራሕተኛታት ክሕግዙኹም ይኽእሉ። መጀመርታ ምስ "
            "መምህር ወይ ኣማኻሪ ትዛረቡ። ድሕሪኡ ኣብቲ ዝሰማማዓኩም ደረጃ ትጅምሩ።",
        ),
        "uk": (
            "SFI – шведська мова для іммігрантів",
            "SFI – це курс шведської мови для дорослих. Курс безкоштовний. Ви вчитеся говорити, "
            "читати й писати шведською. Є курси вдень, увечері та дистанційно.",
            "Ви можете навчатися в SFI, якщо вам щонайменше 16 років і ви живете в муніципалітеті. "
            "Потрібен шведський персональний номер. Можна почати, навіть якщо ви не вмієте читати "
            "чи писати.",
            "Зверніться до освіти для дорослих у муніципалітеті. Працівники тут можуть вам "
            "допомогти. Спочатку ви говорите з учителем або консультантом. Потім починаєте на "
            "потрібному рівні.",
        ),
        "ckb": (
            "SFI – زمانی سویدی بۆ کۆچبەران",
            "SFI خولێکی زمانی سویدییە بۆ گەورەکان. خولەکە بێبەرامبەرە. فێری قسەکردن، خوێندنەوە و "
            "نووسینی سویدی دەبیت. خول هەیە بە ڕۆژ، بە ئێوارە و لە دوورەوە.",
            "دەتوانیت بچیتە SFI ئەگەر لانیکەم ١٦ ساڵ بیت و لەم کۆمونەدا بژیت. دەبێت ژمارەی کەسیت "
            "هەبێت. دەتوانیت دەست پێبکەیت تەنانەت ئەگەر خوێندنەوە و نووسین نەزانیت.",
            "پەیوەندی بە خوێندنی گەورەکانی کۆمونەوە بکە. کارمەندانی ئێرە دەتوانن یارمەتیت بدەن. "
            "سەرەتا لەگەڵ مامۆستا یان ڕاوێژکارێک قسە دەکەیت. پاشان لە ئاستی گونجاو دەست پێدەکەیت.",
        ),
    },
    "so": {
        "sv": (
            "Samhällsorientering",
            "Samhällsorientering är en kurs om hur Sverige fungerar. Du lär dig om arbete, skola, "
            "vård och dina rättigheter. Kursen är ofta på ditt eget språk. Den är gratis.",
            "Kursen är för vuxna som är nya i Sverige och har fått uppehållstillstånd. Du ska vara "
            "mellan 18 och 64 år.",
            "Kontakta kommunen. Har du en handläggare på Arbetsförmedlingen kan du fråga hen. "
            "Personalen här kan hjälpa dig att ta kontakt.",
        ),
        "en": (
            "Civic orientation",
            "Civic orientation is a course about how Sweden works. You learn about work, school, "
            "health care and your rights. The course is often in your own language. It is free.",
            "The course is for adults who are new in Sweden and have a residence permit. You "
            "should be between 18 and 64 years old.",
            "Contact the municipality. If you have an officer at the Public Employment Service, "
            "you can ask them. The staff here can help you get in touch.",
        ),
        "ar": (
            "التعريف بالمجتمع",
            "التعريف بالمجتمع دورة عن كيف تعمل السويد. تتعلّم عن العمل والمدرسة والرعاية الصحية "
            "وحقوقك. الدورة غالباً بلغتك. وهي مجانية.",
            "الدورة للبالغين الجدد في السويد الذين حصلوا على تصريح إقامة. يجب أن يكون عمرك بين 18 "
            "و64 سنة.",
            "تواصل مع البلدية. إذا كان لديك موظف مسؤول في مكتب العمل يمكنك أن تسأله. يمكن للموظفين "
            "هنا مساعدتك في التواصل.",
        ),
        "fa": (
            "آشنایی با جامعه",
            "آشنایی با جامعه دوره‌ای درباره این است که سوئد چگونه کار می‌کند. درباره کار، مدرسه، "
            "خدمات درمانی و حقوق خود یاد می‌گیرید. این دوره اغلب به زبان خود شماست. رایگان است.",
            "این دوره برای بزرگسالانی است که تازه به سوئد آمده‌اند و اجازه اقامت دارند. سن شما باید "
            "بین ۱۸ تا ۶۴ سال باشد.",
            "با کمون تماس بگیرید. اگر در اداره کار مسئول پرونده دارید، می‌توانید از او بپرسید. "
            "کارکنان اینجا می‌توانند به شما در تماس گرفتن کمک کنند.",
        ),
        "so": (
            "Barashada bulshada",
            "Barashada bulshada waa koorso ku saabsan sida Iswiidhan u shaqeyso. Waxaad wax ka "
            "baranaysaa shaqada, dugsiga, daryeelka caafimaadka iyo xuquuqdaada. Koorsadu inta "
            "badan waa afkaaga. Waa bilaash.",
            "Koorsadu waxay u taal dadka waaweyn ee ku cusub Iswiidhan oo helay sharciga "
            "deganaanshaha. Waa inaad u dhaxaysaa 18 iyo 64 sano.",
            "La xiriir degmada. Haddii aad shaqaale kaa masuul ah ku leedahay Arbetsförmedlingen, "
            "waad weydiin kartaa. Shaqaalaha halkan ayaa kaa caawin kara inaad xiriir samayso.",
        ),
        "ti": (
            "ምልላይ ሕብረተሰብ",
            "ምልላይ ሕብረተሰብ ሽወደን ብኸመይ ከም እትሰርሕ ዝምህር ትምህርቲ እዩ። ብዛዕባ ስራሕ፡ ቤት ትምህርቲ፡ ክንክን "
            "ጥዕናን መሰላትኩምን ትመሃሩ። እቲ ትምህርቲ መብዛሕትኡ ግዜ ብቋንቋኹም እዩ። ብነጻ እዩ።",
            "እቲ ትምህርቲ ንሓደስቲ ኣብ ሽወደን ዝመጹን ናይ መንበሪ ፍቓድ ዝረኸቡን ዓበይቲ እዩ። ዕድሜኹም ኣብ መንጎ 18ን 64ን ክኸውን ኣለዎ።",
            "ምስ ኮሙን ተራኸቡ። ኣብ ቤት ጽሕፈት ስራሕ (Arbetsförmedlingen) ሓላፊ እንተሃልዩኩም ክትሓቱዎ ትኽእሉ። "
            "ኣብዚ ዘለዉ ሰራሕተኛታት ክትራኸቡ ክሕግዙኹም ይኽእሉ።",
        ),
        "uk": (
            "Орієнтація в суспільстві",
            "Орієнтація в суспільстві – це курс про те, як влаштована Швеція. Ви дізнаєтеся про "
            "роботу, школу, медицину та свої права. Курс часто вашою мовою. Він безкоштовний.",
            "Курс для дорослих, які недавно в Швеції й отримали дозвіл на проживання. Вам має бути "
            "від 18 до 64 років.",
            "Зверніться до муніципалітету. Якщо у вас є куратор у Службі зайнятості, можете "
            "запитати його. Працівники тут допоможуть вам зв'язатися.",
        ),
        "ckb": (
            "ناساندنی کۆمەڵگا",
            "ناساندنی کۆمەڵگا خولێکە دەربارەی ئەوەی سوید چۆن کار دەکات. فێری کار، قوتابخانە، "
            "چاودێری تەندروستی و مافەکانت دەبیت. خولەکە زۆرجار بە زمانی خۆتە. بێبەرامبەرە.",
            "خولەکە بۆ ئەو گەورانەیە کە تازە هاتوونەتە سوید و مۆڵەتی نیشتەجێبوونیان هەیە. دەبێت "
            "تەمەنت لە نێوان ١٨ تا ٦٤ ساڵدا بێت.",
            "پەیوەندی بە کۆمونەوە بکە. ئەگەر بەرپرسێکت لە ئۆفیسی کار هەیە، دەتوانیت لێی بپرسیت. "
            "کارمەندانی ئێرە دەتوانن یارمەتیت بدەن پەیوەندی بکەیت.",
        ),
    },
    "forskola": {
        "sv": (
            "Förskola",
            "Förskolan är för barn från 1 år tills de börjar skolan. Barnen leker, lär sig och får "
            "kompisar. Personalen är utbildad. Barnen lär sig också svenska.",
            "Alla barn från 1 år kan få en plats om familjen bor i kommunen. Du betalar en avgift "
            "efter familjens inkomst. Från hösten det år barnet fyller 3 år är 15 timmar i veckan "
            "gratis.",
            "Ansök om plats hos kommunen, ofta på kommunens webbplats. Ansök i god tid. Kommunen "
            "ska erbjuda en plats inom fyra månader. Personalen här kan hjälpa dig att ansöka.",
        ),
        "en": (
            "Preschool",
            "Preschool is for children from age 1 until they start school. The children play, "
            "learn and make friends. The staff are trained. The children also learn Swedish.",
            "Every child from age 1 can get a place if the family lives in the municipality. You "
            "pay a fee based on the family's income. From the autumn of the year the child turns "
            "3, 15 hours a week are free.",
            "Apply for a place with the municipality, often on its website. Apply in good time. "
            "The municipality must offer a place within four months. The staff here can help you "
            "apply.",
        ),
        "ar": (
            "الروضة (förskola)",
            "الروضة للأطفال من عمر سنة واحدة حتى يبدؤوا المدرسة. يلعب الأطفال ويتعلّمون ويكوّنون "
            "أصدقاء. الموظفون مدرَّبون. ويتعلّم الأطفال السويدية أيضاً.",
            "يمكن لكل طفل من عمر سنة أن يحصل على مكان إذا كانت العائلة تسكن في البلدية. تدفع رسوماً "
            "حسب دخل العائلة. من خريف السنة التي يبلغ فيها الطفل 3 سنوات تكون 15 ساعة في الأسبوع "
            "مجانية.",
            "قدّم طلب مكان لدى البلدية، غالباً على موقعها الإلكتروني. قدّم الطلب مبكراً. يجب على "
            "البلدية أن تقدّم مكاناً خلال أربعة أشهر. يمكن للموظفين هنا مساعدتك في التقديم.",
        ),
        "fa": (
            "پیش‌دبستانی (förskola)",
            "پیش‌دبستانی برای کودکان از یک‌سالگی تا شروع مدرسه است. کودکان بازی می‌کنند، یاد "
            "می‌گیرند و دوست پیدا می‌کنند. کارکنان آموزش‌دیده هستند. کودکان سوئدی هم یاد می‌گیرند.",
            "هر کودک از یک‌سالگی می‌تواند جا بگیرد، اگر خانواده در این کمون زندگی کند. هزینه بر "
            "اساس درآمد خانواده است. از پاییز سالی که کودک ۳ ساله می‌شود، ۱۵ ساعت در هفته رایگان است.",
            "برای جا از کمون درخواست کنید، اغلب در وب‌سایت کمون. زود درخواست کنید. کمون باید ظرف "
            "چهار ماه جا بدهد. کارکنان اینجا می‌توانند در درخواست به شما کمک کنند.",
        ),
        "so": (
            "Xannaanada carruurta (förskola)",
            "Xannaanadu waxay u taal carruurta laga bilaabo 1 sano ilaa ay ka bilaabayaan "
            "dugsiga. Carruurtu way ciyaaraan, wax bay bartaan, saaxiibona way yeeshaan. "
            "Shaqaaluhu waa tababaran yihiin. Carruurtu waxay sidoo kale bartaan af iswiidhish.",
            "Ilmo kasta oo 1 sano ka weyn wuxuu heli karaa boos haddii qoysku ku nool yahay "
            "degmada. Waxaad bixinaysaa lacag ku xiran dakhliga qoyska. Laga bilaabo dayrta sanadka "
            "ilmuhu gaaro 3 sano, 15 saacadood usbuucii waa bilaash.",
            "Codso boos degmada, inta badan bogga internetka ee degmada. Goor hore codso. Degmadu "
            "waa inay ku siisaa boos afar bilood gudahood. Shaqaalaha halkan ayaa kaa caawin kara "
            "codsiga.",
        ),
        "ti": (
            "ቅድመ-ትምህርቲ (förskola)",
            "ቅድመ-ትምህርቲ ንህጻናት ካብ 1 ዓመት ክሳብ ቤት ትምህርቲ ዝጅምሩ እዩ። ህጻናት ይጻወቱ፡ ይመሃሩን ኣዕሩኽ "
            "ይረኽቡን። ሰራሕተኛታት ዝተማህሩ እዮም። ህጻናት ሽወደንኛ'ውን ይመሃሩ።",
            "ስድራ ኣብቲ ኮሙን እንተቐሚጦም፡ ዝኾነ ህጻን ካብ 1 ዓመት ቦታ ክረክብ ይኽእል። ከም እቶት ስድራ ክፍሊት "
            "ትኸፍሉ። ካብ ቀውዒ ናይቲ ህጻን 3 ዓመት ዝመልኣሉ ዓመት፡ ኣብ ሰሙን 15 ሰዓት ብነጻ እዩ።",
            "ኣብ ኮሙን ቦታ ሕተቱ፡ መብዛሕትኡ ግዜ ኣብ መርበብ ሓበሬታ ናይቲ ኮሙን። ኣቐዲምኩም ሕተቱ። ኮሙን ኣብ "
            "ውሽጢ ኣርባዕተ ኣዋርሕ ቦታ ክህብ ኣለዎ። ኣብዚ ዘለዉ ሰራሕተኛታት ክሕግዙኹም ይኽእሉ።",
        ),
        "uk": (
            "Дошкільний заклад (förskola)",
            "Дошкільний заклад – для дітей від 1 року до початку школи. Діти граються, вчаться і "
            "знаходять друзів. Працівники мають освіту. Діти також вчать шведську.",
            "Кожна дитина від 1 року може отримати місце, якщо сім'я живе в муніципалітеті. Ви "
            "платите внесок залежно від доходу сім'ї. З осені року, коли дитині виповнюється 3 "
            "роки, 15 годин на тиждень безкоштовні.",
            "Подайте заяву на місце до муніципалітету, часто на його сайті. Подавайте заздалегідь. "
            "Муніципалітет має надати місце протягом чотирьох місяців. Працівники тут допоможуть "
            "подати заяву.",
        ),
        "ckb": (
            "باخچەی ساوایان (förskola)",
            "باخچەی ساوایان بۆ منداڵانە لە تەمەنی یەک ساڵییەوە تا دەچنە قوتابخانە. منداڵان یاری "
            "دەکەن، فێر دەبن و هاوڕێ پەیدا دەکەن. کارمەندان ڕاهێنراون. منداڵان سویدیش فێر دەبن.",
            "هەموو منداڵێک لە یەک ساڵییەوە دەتوانێت شوێن وەربگرێت ئەگەر خێزانەکە لەم کۆمونەدا "
            "بژین. کرێیەک دەدەیت بەپێی داهاتی خێزان. لە پاییزی ئەو ساڵەی منداڵەکە دەبێتە ٣ ساڵ، "
            "١٥ کاتژمێر لە هەفتەیەکدا بێبەرامبەرە.",
            "داوای شوێن لە کۆمون بکە، زۆرجار لە ماڵپەڕی کۆمونەکە. زوو داوا بکە. کۆمون دەبێت لە "
            "ماوەی چوار مانگدا شوێن بدات. کارمەندانی ئێرە دەتوانن یارمەتیت بدەن.",
        ),
    },
    "employment": {
        "sv": (
            "Arbete – Arbetsförmedlingen",
            "Arbetsförmedlingen hjälper dig att hitta ett jobb. Kommunens arbetsmarknadsenhet kan "
            "också hjälpa dig. Du kan få vägledning, praktik eller en utbildning.",
            "Du som söker arbete och har rätt att arbeta i Sverige.",
            "Skriv in dig hos Arbetsförmedlingen. Du kan göra det på webbplatsen eller ringa dem. "
            "Ta med legitimation. Personalen här kan hjälpa dig.",
        ),
        "en": (
            "Work – the Public Employment Service",
            "The Public Employment Service (Arbetsförmedlingen) helps you find a job. The "
            "municipality's labour market unit can also help you. You can get guidance, an "
            "internship or training.",
            "Anyone who is looking for work and has the right to work in Sweden.",
            "Register with the Public Employment Service. You can do it on the website or call "
            "them. Bring an ID document. The staff here can help you.",
        ),
        "ar": (
            "العمل – مكتب العمل (Arbetsförmedlingen)",
            "يساعدك مكتب العمل في إيجاد وظيفة. ويمكن لوحدة سوق العمل في البلدية أن تساعدك أيضاً. "
            "يمكنك الحصول على إرشاد أو تدريب عملي أو تعليم.",
            "كل من يبحث عن عمل ولديه الحق في العمل في السويد.",
            "سجّل نفسك في مكتب العمل. يمكنك ذلك على الموقع الإلكتروني أو بالاتصال بهم. خذ معك "
            "بطاقة الهوية. يمكن للموظفين هنا مساعدتك.",
        ),
        "fa": (
            "کار – اداره کار (Arbetsförmedlingen)",
            "اداره کار به شما کمک می‌کند کار پیدا کنید. واحد بازار کار کمون هم می‌تواند کمک کند. "
            "می‌توانید راهنمایی، کارآموزی یا آموزش بگیرید.",
            "هر کسی که دنبال کار است و اجازه کار در سوئد را دارد.",
            "در اداره کار ثبت‌نام کنید. می‌توانید در وب‌سایت یا با تلفن این کار را بکنید. کارت "
            "شناسایی همراه داشته باشید. کارکنان اینجا می‌توانند کمک کنند.",
        ),
        "so": (
            "Shaqo – Arbetsförmedlingen",
            "Arbetsförmedlingen waxay kaa caawisaa inaad hesho shaqo. Qaybta suuqa shaqada ee "
            "degmada ayaa sidoo kale ku caawin karta. Waxaad heli kartaa hanuunin, tababar shaqo "
            "ama waxbarasho.",
            "Qof kasta oo shaqo raadinaya oo xaq u leh inuu ka shaqeeyo Iswiidhan.",
            "Iska diiwaangeli Arbetsförmedlingen. Waxaad ku samayn kartaa bogga internetka ama "
            "adoo wacaya. Soo qaado aqoonsi. Shaqaalaha halkan ayaa ku caawin kara.",
        ),
        "ti": (
            "ስራሕ – ቤት ጽሕፈት ስራሕ (Arbetsförmedlingen)",
            "ቤት ጽሕፈት ስራሕ ስራሕ ንምርካብ ይሕግዘኩም። ናይ ኮሙን ክፍሊ ዕዳጋ ስራሕ'ውን ክሕግዘኩም ይኽእል። "
            "ምኽሪ፡ ልምምድ ስራሕ ወይ ትምህርቲ ክትረኽቡ ትኽእሉ።",
            "ስራሕ ዝደሊ ኣብ ሽወደን ናይ ምስራሕ መሰል ዘለዎ ዝኾነ ሰብ።",
            "ኣብ ቤት ጽሕፈት ስራሕ ተመዝገቡ። ኣብ መርበብ ሓበሬታ ወይ ብተሌፎን ክትገብሩዎ ትኽእሉ። መንነት "
            "ወረቐት ሒዝኩም ኪዱ። ኣብዚ ዘለዉ ሰራሕተኛታት ክሕግዙኹም ይኽእሉ።",
        ),
        "uk": (
            "Робота – Служба зайнятості",
            "Служба зайнятості (Arbetsförmedlingen) допомагає знайти роботу. Відділ ринку праці "
            "муніципалітету теж може допомогти. Ви можете отримати консультацію, практику або "
            "навчання.",
            "Кожен, хто шукає роботу і має право працювати у Швеції.",
            "Зареєструйтеся у Службі зайнятості. Це можна зробити на сайті або телефоном. Візьміть "
            "документ, що посвідчує особу. Працівники тут можуть вам допомогти.",
        ),
        "ckb": (
            "کار – ئۆفیسی کار (Arbetsförmedlingen)",
            "ئۆفیسی کار یارمەتیت دەدات کار بدۆزیتەوە. یەکەی بازاڕی کاری کۆمونیش دەتوانێت یارمەتیت "
            "بدات. دەتوانیت ڕێنمایی، ڕاهێنانی کار یان خوێندن وەربگریت.",
            "هەر کەسێک کە بەدوای کاردا دەگەڕێت و مافی کارکردنی لە سوید هەیە.",
            "لە ئۆفیسی کار خۆت تۆمار بکە. دەتوانیت لە ماڵپەڕەکە یان بە تەلەفۆن بیکەیت. "
            "ناسنامەت لەگەڵ خۆت بهێنە. کارمەندانی ئێرە دەتوانن یارمەتیت بدەن.",
        ),
    },
    "guidance": {
        "sv": (
            "Studie- och yrkesvägledning",
            "En studie- och yrkesvägledare hjälper dig att välja utbildning eller yrke. Ni pratar "
            "om vad du kan och vad du vill. Det är gratis.",
            "Alla vuxna som bor i kommunen kan få vägledning.",
            "Boka en tid hos kommunens vuxenutbildning. Du kan be om tolk. Personalen här kan "
            "hjälpa dig att boka.",
        ),
        "en": (
            "Study and career guidance",
            "A study and career adviser helps you choose education or a job. You talk about what "
            "you can do and what you want. It is free.",
            "All adults who live in the municipality can get guidance.",
            "Book a time with the municipality's adult education. You can ask for an interpreter. "
            "The staff here can help you book.",
        ),
        "ar": (
            "الإرشاد الدراسي والمهني",
            "يساعدك المرشد الدراسي والمهني على اختيار دراسة أو مهنة. تتحدثان عمّا تستطيع فعله "
            "وعمّا تريده. الخدمة مجانية.",
            "كل البالغين الذين يسكنون في البلدية يمكنهم الحصول على إرشاد.",
            "احجز موعداً لدى تعليم الكبار في البلدية. يمكنك أن تطلب مترجماً. يمكن للموظفين هنا "
            "مساعدتك في الحجز.",
        ),
        "fa": (
            "مشاوره تحصیلی و شغلی",
            "مشاور تحصیلی و شغلی به شما کمک می‌کند آموزش یا شغلی را انتخاب کنید. درباره توانایی‌ها "
            "و خواسته‌های شما صحبت می‌کنید. رایگان است.",
            "همه بزرگسالانی که در کمون زندگی می‌کنند می‌توانند مشاوره بگیرند.",
            "در آموزش بزرگسالان کمون وقت بگیرید. می‌توانید مترجم بخواهید. کارکنان اینجا می‌توانند "
            "در گرفتن وقت کمک کنند.",
        ),
        "so": (
            "Hanuuninta waxbarashada iyo xirfadda",
            "Lataliyaha waxbarashada iyo xirfadda ayaa kaa caawiya inaad doorato waxbarasho ama "
            "xirfad. Waxaad ka hadlaysaan waxaad taqaan iyo waxaad rabto. Waa bilaash.",
            "Dhammaan dadka waaweyn ee ku nool degmada ayaa heli kara hanuunin.",
            "Ballan ka qabso waxbarashada dadka waaweyn ee degmada. Waad codsan kartaa "
            "turjubaan. Shaqaalaha halkan ayaa kaa caawin kara ballanta.",
        ),
        "ti": (
            "ምኽሪ ትምህርትን ሞያን",
            "ኣማኻሪ ትምህርትን ሞያን ትምህርቲ ወይ ሞያ ክትመርጹ ይሕግዘኩም። ብዛዕባ እንታይ ከም እትኽእሉን እንታይ "
            "ከም እትደልዩን ትዛረቡ። ብነጻ እዩ።",
            "ኣብቲ ኮሙን ዝቕመጡ ኩሎም ዓበይቲ ምኽሪ ክረኽቡ ይኽእሉ።",
            "ኣብ ትምህርቲ ዓበይቲ ናይቲ ኮሙን ቆጸራ ሓዙ። ተርጓሚ ክትሓቱ ትኽእሉ። ኣብዚ ዘለዉ ሰራሕተኛታት ቆጸራ ክትሕዙ ክሕግዙኹም ይኽእሉ።",
        ),
        "uk": (
            "Консультації з навчання та професії",
            "Консультант з навчання та професії допомагає вибрати освіту або професію. Ви говорите "
            "про те, що вмієте і чого хочете. Це безкоштовно.",
            "Усі дорослі, які живуть у муніципалітеті, можуть отримати консультацію.",
            "Запишіться на прийом в освіті для дорослих муніципалітету. Можна попросити "
            "перекладача. Працівники тут допоможуть записатися.",
        ),
        "ckb": (
            "ڕێنمایی خوێندن و پیشە",
            "ڕاوێژکاری خوێندن و پیشە یارمەتیت دەدات خوێندن یان پیشەیەک هەڵبژێریت. قسە دەکەن "
            "دەربارەی ئەوەی چی دەزانیت و چیت دەوێت. بێبەرامبەرە.",
            "هەموو ئەو گەورانەی لە کۆمونەکەدا دەژین دەتوانن ڕێنمایی وەربگرن.",
            "لە خوێندنی گەورەکانی کۆمون کاتێک دیاری بکە. دەتوانیت داوای وەرگێڕ بکەیت. کارمەندانی "
            "ئێرە دەتوانن یارمەتیت بدەن.",
        ),
    },
    "parenting": {
        "sv": (
            "Föräldraskap i Sverige",
            "Föräldraskap i Sverige är samtal i grupp för föräldrar. Ni pratar om barn, familj och "
            "att vara förälder i Sverige. Samtalen är ofta på ditt eget språk. Det är gratis.",
            "Alla föräldrar kan vara med. Gruppen är särskilt för dig som är ny i Sverige.",
            "Fråga personalen här när nästa grupp börjar. Du kan också fråga familjecentralen "
            "eller kommunen.",
        ),
        "en": (
            "Parenting in Sweden",
            "Parenting in Sweden is group talks for parents. You talk about children, family and "
            "being a parent in Sweden. The talks are often in your own language. It is free.",
            "All parents can take part. The group is especially for you who are new in Sweden.",
            "Ask the staff here when the next group starts. You can also ask the family centre or "
            "the municipality.",
        ),
        "ar": (
            "الأبوّة والأمومة في السويد",
            "الأبوّة والأمومة في السويد لقاءات حوار جماعية للآباء والأمهات. تتحدثون عن الأطفال "
            "والعائلة وعن كونك أباً أو أماً في السويد. اللقاءات غالباً بلغتك. وهي مجانية.",
            "يمكن لكل الآباء والأمهات المشاركة. المجموعة خاصة لمن هو جديد في السويد.",
            "اسأل الموظفين هنا متى تبدأ المجموعة القادمة. يمكنك أيضاً أن تسأل مركز العائلة أو "
            "البلدية.",
        ),
        "fa": (
            "والدگری در سوئد",
            "والدگری در سوئد گفتگوهای گروهی برای والدین است. درباره کودکان، خانواده و پدر و مادر "
            "بودن در سوئد صحبت می‌کنید. گفتگوها اغلب به زبان خود شماست. رایگان است.",
            "همه والدین می‌توانند شرکت کنند. این گروه به‌ویژه برای کسانی است که تازه به سوئد آمده‌اند.",
            "از کارکنان اینجا بپرسید گروه بعدی کی شروع می‌شود. می‌توانید از مرکز خانواده یا کمون "
            "هم بپرسید.",
        ),
        "so": (
            "Waalidnimada Iswiidhan",
            "Waalidnimada Iswiidhan waa wadahadal koox ah oo loogu talagalay waalidiinta. Waxaad "
            "ka hadlaysaan carruurta, qoyska iyo waalidnimada Iswiidhan. Wadahadalladu inta badan "
            "waa afkaaga. Waa bilaash.",
            "Waalid kasta wuu ka qayb geli karaa. Kooxdu gaar ahaan waxay u taal dadka ku cusub "
            "Iswiidhan.",
            "Weydii shaqaalaha halkan goorta kooxda xigta bilaabanayso. Waxaad sidoo kale "
            "weydiin kartaa xarunta qoyska ama degmada.",
        ),
        "ti": (
            "ወለድነት ኣብ ሽወደን",
            "ወለድነት ኣብ ሽወደን ንወለዲ ብጉጅለ ዝግበር ዘተ እዩ። ብዛዕባ ቆልዑ፡ ስድራን ኣብ ሽወደን ወላዲ ምዃንን "
            "ትዛረቡ። እቲ ዘተ መብዛሕትኡ ግዜ ብቋንቋኹም እዩ። ብነጻ እዩ።",
            "ኩሎም ወለዲ ክሳተፉ ይኽእሉ። እቲ ጉጅለ ብፍላይ ንሓደስቲ ኣብ ሽወደን እዩ።",
            "እቲ ዝቕጽል ጉጅለ መዓስ ከም ዝጅምር ንሰራሕተኛታት ኣብዚ ሕተቱ። ንማእከል ስድራ ወይ ንኮሙን'ውን ክትሓቱ ትኽእሉ።",
        ),
        "uk": (
            "Батьківство у Швеції",
            "Батьківство у Швеції – це групові розмови для батьків. Ви говорите про дітей, сім'ю і "
            "про те, як бути батьками у Швеції. Розмови часто вашою мовою. Це безкоштовно.",
            "Брати участь можуть усі батьки. Група особливо для тих, хто недавно у Швеції.",
            "Запитайте працівників тут, коли почнеться наступна група. Можна також запитати в "
            "сімейному центрі або в муніципалітеті.",
        ),
        "ckb": (
            "دایک و باوکایەتی لە سوید",
            "دایک و باوکایەتی لە سوید گفتوگۆی گروپییە بۆ دایکان و باوکان. قسە دەکەن دەربارەی "
            "منداڵ، خێزان و دایک یان باوک بوون لە سوید. گفتوگۆکان زۆرجار بە زمانی خۆتن. "
            "بێبەرامبەرە.",
            "هەموو دایکان و باوکان دەتوانن بەشداری بکەن. گروپەکە بەتایبەتی بۆ ئەوانەیە کە تازە "
            "هاتوونەتە سوید.",
            "لە کارمەندانی ئێرە بپرسە گروپی داهاتوو کەی دەست پێدەکات. دەتوانیت لە ناوەندی خێزان "
            "یان کۆمونیش بپرسیت.",
        ),
    },
}


# ---------------------------------------------------------------- seeding


def seed_core_services(org: Organisation) -> list[Service]:
    """Add the core services with their texts to `org` (those it lacks); returns the new ones."""
    existing = set(
        db.session.scalars(select(Service.slug).where(Service.organisation_id == org.id))
    )
    added = []
    for slug, (pictogram, order, url) in CORE_SERVICES.items():
        if slug in existing:
            continue
        service = Service(
            organisation=org, slug=slug, pictogram=pictogram, url=url, sort_order=order
        )
        for locale, (name, summary, eligibility, how) in CORE_TEXTS[slug].items():
            service.translations.append(
                ServiceTranslation(
                    locale=locale,
                    name=name,
                    summary=summary,
                    eligibility=eligibility,
                    how_to_start=how,
                    status=(
                        TranslationStatus.REVIEWED
                        if locale == DEFAULT_LOCALE
                        else TranslationStatus.DRAFT
                    ),
                )
            )
        db.session.add(service)
        added.append(service)
    db.session.flush()
    return added


# ---------------------------------------------------------------- export


def _text_record(t: ServiceTranslation) -> dict:
    return {
        "name": t.name,
        "description": t.summary,
        "eligibility_description": t.eligibility,
        "application_process": t.how_to_start,
        "status": t.status,
    }


def export_catalogue(org: Organisation) -> dict:
    """The organisation's whole catalogue as an HSDS-shaped dict (two queries)."""
    services = list(
        db.session.scalars(
            select(Service)
            .where(Service.organisation_id == org.id)
            .order_by(Service.sort_order, Service.slug)
        )
    )
    texts: dict[int, dict[str, ServiceTranslation]] = {}
    if services:
        rows = db.session.scalars(
            select(ServiceTranslation)
            .where(ServiceTranslation.service_id.in_([s.id for s in services]))
            .order_by(ServiceTranslation.locale)
        )
        for row in rows:
            texts.setdefault(row.service_id, {})[row.locale] = row
    return {
        "format": FORMAT,
        "version": VERSION,
        "organization": {"id": org.slug, "name": org.name},
        "services": [_service_record(s, texts.get(s.id, {})) for s in services],
    }


def _service_record(service: Service, texts: dict[str, ServiceTranslation]) -> dict:
    source = texts.get(DEFAULT_LOCALE)
    return {
        "id": service.slug,
        "name": source.name if source else "",
        "description": source.summary if source else "",
        "eligibility_description": source.eligibility if source else "",
        "application_process": source.how_to_start if source else "",
        "url": service.url,
        "email": service.email,
        "status": "active" if service.is_active else "inactive",
        "phones": [{"number": service.phone}] if service.phone else [],
        "schedules": [{"description": service.opening_hours}] if service.opening_hours else [],
        "locations": ([{"addresses": [{"address_1": service.address}]}] if service.address else []),
        "x_bro": {"pictogram": service.pictogram, "sort_order": service.sort_order},
        "translations": {locale: _text_record(t) for locale, t in sorted(texts.items())},
    }


def export_json(org: Organisation) -> str:
    return json.dumps(export_catalogue(org), ensure_ascii=False, indent=2, sort_keys=True)


# ---------------------------------------------------------------- import

# More services than any municipality's catalogue, fewer than would make one upload a
# minute of validation (each record is checked as the admin form checks it).
MAX_SERVICES = 1000
# A file with many broken records lists this many problems, then how many more there are.
MAX_LISTED_ERRORS = 50

# Where each field of the admin's forms sits in a record, for the messages.
SERVICE_PLACES = {
    "slug": "id",
    "pictogram": "x_bro.pictogram",
    "url": "url",
    "email": "email",
    "phone": "phones",
    "address": "locations",
    "opening_hours": "schedules",
    "sort_order": "x_bro.sort_order",
    "is_active": "status",
}
TEXT_PLACES = {
    "name": "name",
    "summary": "description",
    "eligibility": "eligibility_description",
    "how_to_start": "application_process",
    "status": "status",
}


@dataclass
class ParsedService:
    slug: str
    fields: dict
    texts: dict[str, dict] = field(default_factory=dict)


class CatalogueError(Exception):
    """An import refused; `errors` lists every problem found, each already translated."""

    def __init__(self, errors: list[str]):
        if len(errors) > MAX_LISTED_ERRORS:
            more = len(errors) - MAX_LISTED_ERRORS
            errors = [*errors[:MAX_LISTED_ERRORS], _("Och %(count)s fel till.", count=more)]
        super().__init__("; ".join(errors))
        self.errors = errors


def _text(value, where: str, errors: list[str]) -> str | None:
    """A text value of the file as the form would receive it; None (and a message) when the
    file has something else there: a number, a list or an object."""
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(_("%(where)s: ska vara text.", where=where))
        return None
    return clean_text(value).strip()  # an imported file is pasted text too


def _first(items, key: str, where: str, errors: list[str]):
    """The first entry of an HSDS list such as phones or schedules, or None."""
    if items in (None, []):
        return None
    if not isinstance(items, list) or not isinstance(items[0], dict):
        errors.append(_("%(where)s: ska vara en lista.", where=where))
        return None
    return items[0].get(key)


def _form_data(values: dict[str, str | None]) -> MultiDict | None:
    """The values as a posted form, or None when one of them could not be text."""
    if any(v is None for v in values.values()):
        return None
    return MultiDict(values)


def _form_errors(form, places: dict[str, str], where: str, errors: list[str]) -> None:
    for name, messages in form.errors.items():
        errors.extend(f"{where}.{places.get(name, name)}: {m}" for m in messages)


def parse_catalogue(data, organisation_id: int, existing: dict[str, int]) -> list[ParsedService]:
    """Check a whole catalogue, each record with the rules of the admin's forms (`existing`
    maps the organisation's slugs to their ids); raise CatalogueError listing every problem,
    or return it."""
    errors: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("services"), list):
        raise CatalogueError([_("Filen är inte en tjänstekatalog (listan services saknas).")])
    if len(data["services"]) > MAX_SERVICES:
        raise CatalogueError(
            [_("Filen har för många tjänster. Högst %(max)s går att läsa in.", max=MAX_SERVICES)]
        )
    parsed, seen = [], set()
    for index, record in enumerate(data["services"], start=1):
        where = f"services[{index}]"
        if not isinstance(record, dict):
            errors.append(_("%(where)s: ska vara ett objekt.", where=where))
            continue
        item = _parse_service(record, where, errors, organisation_id, existing)
        if item.slug in seen:
            errors.append(
                _("%(where)s: id %(slug)s finns två gånger.", where=where, slug=item.slug)
            )
        seen.add(item.slug)
        parsed.append(item)
    if errors:
        raise CatalogueError(errors)
    return parsed


def _parse_service(
    record: dict, where: str, errors: list[str], organisation_id: int, existing: dict[str, int]
) -> ParsedService:
    # The forms read this module's rules (slugs, pictograms, lengths): imported when used.
    from .forms import ServiceForm

    status = record.get("status", "active")
    if status not in ("active", "inactive"):
        errors.append(_("%(where)s.status: ska vara active eller inactive.", where=where))
    extra = record.get("x_bro") or {}
    if not isinstance(extra, dict):
        errors.append(_("%(where)s: ska vara ett objekt.", where=f"{where}.x_bro"))
        extra = {}
    sort_order = extra.get("sort_order", 100)
    if not isinstance(sort_order, int) or isinstance(sort_order, bool):
        errors.append(_("%(where)s: ska vara ett heltal.", where=f"{where}.x_bro.sort_order"))
        sort_order = 100
    addresses = _first(record.get("locations"), "addresses", f"{where}.locations", errors)
    values = {
        "slug": _text(record.get("id"), f"{where}.id", errors),
        "pictogram": _text(
            extra.get("pictogram", "service.svg"), f"{where}.x_bro.pictogram", errors
        ),
        "url": _text(record.get("url"), f"{where}.url", errors),
        "email": _text(record.get("email"), f"{where}.email", errors),
        "phone": _text(
            _first(record.get("phones"), "number", f"{where}.phones", errors),
            f"{where}.phones",
            errors,
        ),
        "address": _text(
            _first(addresses, "address_1", f"{where}.locations", errors),
            f"{where}.locations",
            errors,
        ),
        "opening_hours": _text(
            _first(record.get("schedules"), "description", f"{where}.schedules", errors),
            f"{where}.schedules",
            errors,
        ),
        "sort_order": str(sort_order),
        "is_active": "" if status == "inactive" else "y",
    }
    slug = values["slug"] or ""
    item = ParsedService(slug=slug, fields={})
    formdata = _form_data(values)
    if formdata is not None:
        form = ServiceForm(
            formdata=formdata,
            meta={"csrf": False},
            organisation_id=organisation_id,
            service_id=existing.get(slug),
        )
        if form.validate():
            item.fields = {name: form[name].data for name in SERVICE_PLACES if name != "slug"}
        else:
            _form_errors(form, SERVICE_PLACES, where, errors)
    translations = record.get("translations") or {}
    if not isinstance(translations, dict):
        errors.append(_("%(where)s: ska vara ett objekt.", where=f"{where}.translations"))
        translations = {}
    if DEFAULT_LOCALE not in translations and record.get("name"):
        # The top-level HSDS fields are the Swedish source text.
        source = {k: record.get(k) for k in TEXT_KEYS}
        translations = {**translations, DEFAULT_LOCALE: {**source, "status": "reviewed"}}
    if DEFAULT_LOCALE not in translations:
        errors.append(_("%(where)s: svensk text saknas.", where=where))
    for locale, text in translations.items():
        place = f"{where}.translations.{locale}"
        if locale not in LOCALES:
            errors.append(_("%(where)s: okänt språk.", where=place))
            continue
        if not isinstance(text, dict):
            errors.append(_("%(where)s: ska vara ett objekt.", where=place))
            continue
        if (values_of_text := _parse_text(text, place, errors, locale)) is not None:
            item.texts[locale] = values_of_text
    return item


def _parse_text(text: dict, place: str, errors: list[str], locale: str) -> dict | None:
    """One translation checked as the admin's translation form checks it, or None."""
    from .forms import TranslationForm

    default_status = (
        TranslationStatus.REVIEWED if locale == DEFAULT_LOCALE else TranslationStatus.DRAFT
    )
    formdata = _form_data(
        {
            name: _text(
                text.get(key, default_status if name == "status" else None),
                f"{place}.{key}",
                errors,
            )
            for name, key in TEXT_PLACES.items()
        }
    )
    if formdata is None:
        return None
    form = TranslationForm(formdata=formdata, meta={"csrf": False})
    if not form.validate():
        _form_errors(form, TEXT_PLACES, place, errors)
        return None
    return {name: form[name].data for name in TEXT_PLACES}


def import_catalogue(org: Organisation, data, user=None) -> dict[str, int]:
    """Create or update the services in `data` (matched by id = slug) and their translations,
    all or nothing: raises CatalogueError before anything is written. The caller commits."""
    existing = {
        s.slug: s
        for s in db.session.scalars(select(Service).where(Service.organisation_id == org.id))
    }
    parsed = parse_catalogue(data, org.id, {slug: s.id for slug, s in existing.items()})
    texts: dict[tuple[int, str], ServiceTranslation] = {}
    if existing:
        rows = db.session.scalars(
            select(ServiceTranslation).where(
                ServiceTranslation.service_id.in_([s.id for s in existing.values()])
            )
        )
        texts = {(t.service_id, t.locale): t for t in rows}
    created = updated = 0
    for item in parsed:
        service = existing.get(item.slug)
        if service is None:
            service = Service(organisation_id=org.id, slug=item.slug)
            db.session.add(service)
            created += 1
        else:
            updated += 1
        for name, value in item.fields.items():
            setattr(service, name, value)
        db.session.flush()
        for locale, values in item.texts.items():
            row = texts.get((service.id, locale))
            if row is None:
                row = ServiceTranslation(service_id=service.id, locale=locale)
                db.session.add(row)
            for name, value in values.items():
                setattr(row, name, value)
    audit.record(
        "catalogue_import",
        "organisation",
        org.id,
        user=user,
        organisation_id=org.id,
        created=created,
        updated=updated,
    )
    return {"created": created, "updated": updated}


def load_json(raw: bytes | str):
    """Parse uploaded JSON, turning a syntax error into a CatalogueError."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise CatalogueError(
            [_("Filen är inte giltig JSON: %(error)s", error=str(error))]
        ) from None
    except RecursionError:
        # Lists or objects nested thousands deep: the parser recurses once per level, and a
        # catalogue has six. Python unwinds the recursion cleanly, so this is only bad input.
        raise CatalogueError([_("Filen har för många nivåer inuti varandra.")]) from None


# ---------------------------------------------------------------- flask commands


def command_org(slug: str | None) -> Organisation:
    slug = slug or current_app.config.get("PUBLIC_ORGANISATION")
    query = select(Organisation)
    query = query.where(Organisation.slug == slug) if slug else query.order_by(Organisation.id)
    org = db.session.scalar(query.limit(1))
    if org is None:
        raise click.ClickException("No such organisation")
    return org
