namespace Zhongtai.Demo;

/// <summary>Words the demo catalog is made of.</summary>
internal static class DemoVocabulary
{
    /// <summary>Category, its Chinese name, nouns, and category tags.</summary>
    public static readonly (string Name, string Zh, string[] Nouns, string[] ZhNouns, string[] Tags)[] Categories =
    [
        ("electronics", "电子", ["headphones", "speaker", "charger", "smartwatch", "tablet"], ["耳机", "音箱", "充电器", "手表"], ["wireless", "bluetooth", "usb-c", "noise-cancelling"]),
        ("books", "图书", ["novel", "cookbook", "biography", "atlas", "poetry collection"], ["小说", "菜谱", "传记", "诗集"], ["paperback", "hardcover", "bestseller", "classic"]),
        ("fashion", "服饰", ["jacket", "dress", "sneakers", "scarf", "handbag"], ["夹克", "连衣裙", "运动鞋", "围巾"], ["cotton", "summer", "winter", "slim-fit"]),
        ("home", "家居", ["lamp", "rug", "cushion", "vase", "shelf"], ["台灯", "地毯", "靠垫", "花瓶"], ["minimalist", "wooden", "cozy", "nordic"]),
        ("kitchen", "厨房", ["wok", "kettle", "knife set", "blender", "teapot"], ["炒锅", "水壶", "刀具", "茶壶"], ["stainless", "non-stick", "ceramic", "electric"]),
        ("sports", "运动", ["yoga mat", "dumbbell", "racket", "bicycle helmet", "running shorts"], ["瑜伽垫", "哑铃", "球拍", "头盔"], ["outdoor", "fitness", "lightweight", "pro"]),
        ("beauty", "美妆", ["lipstick", "serum", "face mask", "perfume", "sunscreen"], ["口红", "精华", "面膜", "香水"], ["hydrating", "organic", "spf50", "vegan"]),
        ("toys", "玩具", ["puzzle", "robot kit", "plush bear", "board game", "kite"], ["拼图", "机器人", "毛绒熊", "桌游"], ["educational", "stem", "family", "ages-6+"]),
        ("grocery", "食品", ["green tea", "coffee beans", "chocolate", "olive oil", "rice"], ["绿茶", "咖啡豆", "巧克力", "大米"], ["organic", "imported", "gift-box", "fresh"]),
        ("music", "音乐", ["guitar", "ukulele", "keyboard", "vinyl record", "drum pad"], ["吉他", "尤克里里", "电子琴", "黑胶"], ["acoustic", "beginner", "vintage", "studio"]),
        ("games", "游戏", ["controller", "strategy game", "racing game", "gaming mouse", "headset"], ["手柄", "策略游戏", "赛车游戏", "鼠标"], ["multiplayer", "rgb", "console", "indie"]),
        ("garden", "园艺", ["planter", "seed pack", "watering can", "pruner", "hammock"], ["花盆", "种子", "喷壶", "吊床"], ["balcony", "succulent", "eco", "outdoor"]),
        ("pets", "宠物", ["cat tree", "dog leash", "pet bed", "aquarium", "chew toy"], ["猫爬架", "狗绳", "宠物窝", "鱼缸"], ["cat", "dog", "durable", "washable"]),
        ("travel", "旅行", ["suitcase", "backpack", "neck pillow", "travel adapter", "passport wallet"], ["行李箱", "背包", "颈枕", "转换插头"], ["carry-on", "waterproof", "compact", "rfid"]),
        ("baby", "母婴", ["stroller", "baby bottle", "diaper bag", "crib mobile", "bib set"], ["婴儿车", "奶瓶", "妈咪包", "围兜"], ["bpa-free", "newborn", "soft", "foldable"]),
        ("office", "办公", ["notebook", "fountain pen", "desk organizer", "monitor stand", "stapler"], ["笔记本", "钢笔", "收纳盒", "显示器支架"], ["ergonomic", "a5", "leather", "refillable"]),
        ("auto", "汽车", ["dash cam", "car vacuum", "seat cover", "phone mount", "tire inflator"], ["行车记录仪", "吸尘器", "座套", "手机支架"], ["12v", "universal", "hd", "portable"]),
        ("health", "健康", ["vitamin c", "massage gun", "thermometer", "protein powder", "fish oil"], ["维生素", "按摩枪", "体温计", "蛋白粉"], ["daily", "sugar-free", "clinical", "sport"]),
        ("art", "艺术", ["watercolor set", "sketchbook", "easel", "brush set", "clay kit"], ["水彩", "速写本", "画架", "画笔"], ["artist-grade", "beginner", "portable", "acid-free"]),
        ("movies", "影视", ["blu-ray box", "documentary", "anime series", "film classic", "projector"], ["蓝光", "纪录片", "动画", "投影仪"], ["4k", "collector", "subtitled", "hd"]),
    ];

    public static readonly string[] Adjectives =
    [
        "classic", "compact", "deluxe", "everyday", "premium", "smart", "vintage", "modern", "handmade", "portable",
        "quiet", "bold", "gentle", "rugged", "elegant", "bright", "essential", "ultra", "pocket", "royal",
    ];

    public static readonly string[] ZhAdjectives = ["经典", "便携", "豪华", "智能", "复古", "简约", "手工", "轻薄", "高端", "日常"];

    public static readonly string[] Brands =
    [
        "Acme", "Nimbus", "Lotus", "Orion", "Zenith", "Harbor", "Maple", "Quartz", "Juniper", "Atlas", "小米", "华为", "无印良品",
    ];

    public static readonly string[] Cities = ["Beijing", "Shanghai", "Shenzhen", "Hangzhou", "Chengdu", "Wuhan", "Xi'an", "Nanjing", "Singapore", "London"];

    public static readonly string[] Audiences = ["students", "families", "travellers", "beginners", "professionals", "gift givers", "weekend hobbyists"];

    public static readonly string[] HumanUserAgents =
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ZhongtaiApp/3.2",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0 Mobile Safari/537.36 ZhongtaiApp/3.1",
    ];

    public static readonly string[] BotUserAgents =
    [
        "python-requests/2.31.0", "curl/8.5.0", "Go-http-client/1.1", "Scrapy/2.11 (+https://scrapy.org)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0 Safari/537.36",
    ];

    public static readonly string[] Scenes = ["home_feed", "search", "detail_related"];
}
