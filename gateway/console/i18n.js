// UI strings in Chinese (the default) and English. t(key) looks a string up
// in the chosen language; the choice is kept in localStorage.
const STRINGS = {
  "zh-CN": {
    title: "直播网关控制台", signin: "登录", signout: "退出", admin_key: "管理密钥（运营）",
    token: "签名令牌（主播、副号、小助手）", or: "或", lang: "English",
    nav_rooms: "直播间", nav_control: "直播控制", nav_moderation: "内容管理",
    nav_dashboard: "数据大屏", nav_cluster: "集群", operator: "运营", user: "用户",
    room: "直播间", id: "ID", room_title: "标题", anchor: "主播", status: "状态", online: "在线",
    planned_start: "计划开始", planned_end: "计划结束", actions: "操作", create: "创建",
    save: "保存", edit: "编辑", open: "打开", start: "开播", pause: "暂停", resume: "恢复",
    end: "结束", ban: "封禁", switches: "开关", comments: "评论", likes: "点赞",
    anonymous_watch: "匿名观看", sharing: "分享", replay: "回放", customer_service: "客服",
    roles: "角色", role: "角色", assistant: "小助手", sub_anchor: "副号", viewer: "观众",
    nick: "昵称", set_role: "设置角色", create_room: "创建直播间", edit_room: "编辑直播间",
    open_room: "进入直播间", live_state: "直播状态", notices: "公告", notice_text: "公告内容",
    push: "推送", withdraw: "撤回", goods: "商品货架", goods_id: "商品ID", name: "名称",
    cover_url: "封面地址", price: "原价（分）", live_price: "直播价（分）", quota: "可抢数量",
    order_limit: "每单限购", mode: "模式", mode_now: "立即可抢", mode_on_switch: "开关控制",
    put_goods: "上架/修改", push_card: "上链接", explain: "讲解", unexplain: "取消讲解",
    grabbable: "可抢", not_grabbable: "不可抢", stock: "剩余", explaining: "讲解中",
    coupons: "优惠券", coupon_id: "券ID", coupon_stock: "数量", per_viewer: "每人限领",
    lotteries: "抽奖", kind: "类型", keyword: "口令", duration_s: "时长（秒）",
    winners: "中奖人数", prize: "奖品", rules: "规则", lottery_comment: "评论抽奖",
    lottery_like: "点赞抽奖", state: "状态", results: "结果", export_winners: "导出中奖名单",
    costream: "连麦与PK", costream_placeholder: "连麦申请与PK由另一模块提供，完成后接入此处。",
    comment_stream: "实时评论", delete: "删除", mute: "禁言", shadow_mute: "隐身禁言",
    unmute: "解除禁言", mute_list: "禁言列表", until: "截止", forever: "永久",
    room_ban: "全员禁言", comments_on: "开放评论", comments_off: "关闭评论",
    slow_mode: "慢速模式（秒）", words: "敏感词", allow_words: "白名单", word: "词",
    category: "分类", add: "添加", remove: "移除", audit: "操作日志", time: "时间",
    actor: "操作人", action: "动作", target: "对象", reason: "原因",
    figures: "实时数据", curve: "两分钟曲线", export_csv: "导出CSV", peak_online: "峰值在线",
    viewers: "累计观看", joins: "进入次数", lottery_participants: "抽奖参与",
    joins_per_minute: "每分钟进入", node: "节点", readiness: "就绪", connections: "连接数",
    rooms: "房间数", backend: "存储", store: "存储状态", latency: "延迟",
    bus_disconnects: "总线断开", deployment: "部署", live_rooms: "直播中房间",
    lives_today: "今日开播", refresh: "刷新", ok: "成功", error: "错误",
    operator_only: "仅运营可用（管理密钥）", connected: "已连接", disconnected: "未连接",
    none: "无", room_id_hint: "输入直播间ID", current_notice: "当前公告",
    st101: "直播中", st102: "未开始", st103: "已结束", st104: "已封禁", st105: "已暂停",
    st106: "异常", st107: "已过期", hubs: "本节点房间",
  },
  en: {
    title: "Live gateway console", signin: "Sign in", signout: "Sign out", admin_key: "Admin key (operator)",
    token: "Signed token (anchor, sub-anchor, assistant)", or: "or", lang: "中文",
    nav_rooms: "Rooms", nav_control: "Room control", nav_moderation: "Moderation",
    nav_dashboard: "Dashboard", nav_cluster: "Cluster", operator: "Operator", user: "User",
    room: "Room", id: "ID", room_title: "Title", anchor: "Anchor", status: "Status", online: "Online",
    planned_start: "Planned start", planned_end: "Planned end", actions: "Actions", create: "Create",
    save: "Save", edit: "Edit", open: "Open", start: "Start", pause: "Pause", resume: "Resume",
    end: "End", ban: "Ban", switches: "Switches", comments: "Comments", likes: "Likes",
    anonymous_watch: "Anonymous watch", sharing: "Sharing", replay: "Replay", customer_service: "Customer service",
    roles: "Roles", role: "Role", assistant: "Assistant", sub_anchor: "Sub-anchor", viewer: "Viewer",
    nick: "Nickname", set_role: "Set role", create_room: "Create a room", edit_room: "Edit room",
    open_room: "Open a room", live_state: "Live state", notices: "Notices", notice_text: "Notice text",
    push: "Push", withdraw: "Withdraw", goods: "Goods shelf", goods_id: "Goods id", name: "Name",
    cover_url: "Cover URL", price: "Price (fen)", live_price: "Live price (fen)", quota: "Quota",
    order_limit: "Per order", mode: "Mode", mode_now: "Grabbable now", mode_on_switch: "On switch",
    put_goods: "Put / change", push_card: "Push card", explain: "Explain", unexplain: "Unpin",
    grabbable: "Grabbable", not_grabbable: "Not grabbable", stock: "Left", explaining: "Explaining",
    coupons: "Coupons", coupon_id: "Coupon id", coupon_stock: "Stock", per_viewer: "Per viewer",
    lotteries: "Lotteries", kind: "Kind", keyword: "Keyword", duration_s: "Duration (s)",
    winners: "Winners", prize: "Prize", rules: "Rules", lottery_comment: "Comment lottery",
    lottery_like: "Like lottery", state: "State", results: "Results", export_winners: "Export winners",
    costream: "Co-stream and PK", costream_placeholder: "Co-stream applicants and PK come from another module and plug in here.",
    comment_stream: "Live comments", delete: "Delete", mute: "Mute", shadow_mute: "Shadow mute",
    unmute: "Unmute", mute_list: "Muted users", until: "Until", forever: "until unmuted",
    room_ban: "Room-wide ban", comments_on: "Comments on", comments_off: "Comments off",
    slow_mode: "Slow mode (s)", words: "Sensitive words", allow_words: "Allow-list", word: "Word",
    category: "Category", add: "Add", remove: "Remove", audit: "Audit log", time: "Time",
    actor: "Actor", action: "Action", target: "Target", reason: "Reason",
    figures: "Figures", curve: "2-minute curve", export_csv: "Export CSV", peak_online: "Peak online",
    viewers: "Viewers", joins: "Joins", lottery_participants: "Lottery participants",
    joins_per_minute: "Joins per minute", node: "Node", readiness: "Readiness", connections: "Connections",
    rooms: "Rooms", backend: "Backend", store: "Store", latency: "Latency",
    bus_disconnects: "Bus disconnects", deployment: "Deployment", live_rooms: "Live rooms",
    lives_today: "Lives today", refresh: "Refresh", ok: "OK", error: "Error",
    operator_only: "Operators only (admin key)", connected: "connected", disconnected: "disconnected",
    none: "none", room_id_hint: "room id", current_notice: "Notice showing",
    st101: "live", st102: "not started", st103: "ended", st104: "banned", st105: "paused",
    st106: "abnormal", st107: "expired", hubs: "Rooms on this node",
  },
};

export let lang = localStorage.getItem("console.lang") || "zh-CN";

export function setLang(l) {
  lang = STRINGS[l] ? l : "zh-CN";
  localStorage.setItem("console.lang", lang);
  document.documentElement.lang = lang;
}

export function t(key) {
  return STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
}

export function statusName(code) {
  return `${code} ${t("st" + code)}`;
}
