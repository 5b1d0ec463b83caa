"""The words of every problem Linli reports, in Chinese and English: one catalogue.

A problem has a *title*, one per slug (`TITLES`), and a *detail*, a message key with named
parameters (`DETAILS`, templates in `str.format` syntax). Domain errors and the API's own
problems carry the key and its parameters, never prose; `title()` and `detail()` put them in
words when the answer is written, in the language the reader asked for (`zh` unless `en`).

To add an error:
1. in `ledger/errors.py`, `class SomethingWrong(DomainError): slug = "something-wrong"`
   (and its status in `api/errors.py` if it is not 409);
2. here, `TITLES["something-wrong"] = ("中文标题", "English title")` and one `DETAILS` entry
   per way it is raised, e.g. `"something-wrong": ("……{name}……", "… {name} …")`;
3. raise it as `SomethingWrong("something-wrong", name=...)`.
`tests/unit/test_messages.py` walks the code and fails on a slug or key missing here, or a
template whose two languages take different parameters.

Parameters are shown as given (names, numbers, dates); a parameter named `thing` is a word
from `THINGS` (the kind of thing not found: `member`, `community`, …) and is translated.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

Language = str  # "zh" or "en"
ZH, EN = "zh", "en"

TITLES: dict[str, tuple[str, str]] = {
    "domain-error": ("请求被拒绝", "The request was refused"),
    "not-found": ("没有找到", "Not found"),
    "webhook-url-refused": ("不能向这个地址推送", "Webhooks cannot be sent to this URL"),
    "webhook-disabled": ("这个推送订阅已停用", "The webhook is disabled"),
    "insufficient-balance": ("余额不足", "Not enough available balance"),
    "refund-exceeds-redemption": ("退还的积分超过了这笔兑换剩余的积分",
                                  "The refund is more than what is left of the redemption"),
    "cap-reached": ("已达到规则的上限", "The rule's cap is reached"),
    "redemption-limit-reached": ("已达到居民当天的兑换上限",
                                 "The member's daily redemption limit is reached"),
    "hold-expired": ("预扣已过期", "The hold has expired"),
    "hold-already-captured": ("预扣已经扣款", "The hold was already captured"),
    "hold-voided": ("预扣已撤销", "The hold was voided"),
    "capture-exceeds-hold": ("扣款超过了预扣的积分", "The capture is more than the hold"),
    "nothing-to-settle": ("没有需要结算的", "Nothing to settle"),
    "invalid-transition": ("当前状态下不能这样操作",
                           "That step is not allowed in the current state"),
    "invalid-request": ("请求不符合要求", "The request is not valid"),
    "already-exists": ("已经存在", "It already exists"),
    "already-erased": ("个人信息已注销", "The personal data was erased already"),
    "concurrent-modification": ("同时修改冲突，请重试", "Concurrent modification"),
    "unavailable": ("服务暂时不可用", "The service is unavailable"),
    "idempotency-key-reused": ("幂等键已用于另一个请求",
                               "The idempotency key was used with a different request"),
    "storage-cap-reached": ("已达到时间银行的存储上限",
                            "The member's time-bank storage cap is reached"),
    "gift-not-allowed": ("本社区不允许这样转赠", "The community's policy does not allow this gift"),
    "age-requirement-not-met": ("未到可以支取时长的年龄",
                                "The member is too young (or has no birth date) to withdraw"),
    "credit-limit-reached": ("已达到对方社区的通存通兑额度",
                             "The partner community's credit limit is reached"),
    "community-in-district": ("这个社区已经属于一个街道", "The community is in a district already"),
    "payment-code-required": ("需要付款码", "A payment code is required"),
    "payment-code-invalid": ("付款码无效或已过期", "The payment code is invalid or expired"),
    "payment-code-used": ("付款码已使用", "The payment code was used"),
    "pin-invalid": ("存折号或密码不正确", "Wrong passbook number or PIN"),
    "pin-locked": ("密码已锁定", "The PIN is locked"),
    "not-a-sign-in-link": ("这不是登录链接", "Not a sign-in link"),
    "sign-in-link-spent": ("登录链接已失效", "The sign-in link is spent"),
    "forbidden": ("无权这样做", "Forbidden"),
    "member-inactive": ("居民已不在册", "The member is no longer registered"),
    "merchant-closed": ("商户已停业", "The merchant is closed"),
    "rule-retired": ("规则已停用", "The rule is retired"),
    "reversal-exceeds-award": ("冲正积分超过了这笔发放剩余的积分",
                               "The reversal is more than what is left of the award"),
    "award-already-reversed": ("这笔发放已经全部冲正", "The award is already reversed in full"),
    "four-eyes-required": ("需要另一位工作人员审核", "Another staff member must approve"),
    "activity-closed": ("活动已结束签到", "The activity is closed"),
    "check-in-code-invalid": ("签到码无效或已过期", "The check-in code is invalid or expired"),
    "check-in-outside-window": ("不在活动签到时间内", "Outside the activity's check-in time"),
    "already-checked-in": ("已经签到过了", "Already checked in"),
    "not-checked-in": ("还没有签到，不能签退", "Not checked in"),
    "already-checked-out": ("已经签退过了", "Already checked out"),
    "service-not-in-catalogue": ("服务项目不在本社区的服务目录中",
                                 "The service is not in the community's catalogue"),
    "of-another-community": ("不属于同一社区", "Of another community"),
    "already-sealed": ("账本已经封存", "The log is already sealed"),
    # raised by the HTTP layer
    "unauthorized": ("未登录或令牌无效", "Unauthorized"),
    "rate-limited": ("请求太频繁", "Too many requests"),
    "validation-error": ("填写的内容不符合要求", "The request is not valid"),
    "malformed-json": ("请求内容不是有效的 JSON", "Malformed JSON"),
    "payload-too-large": ("请求内容太大", "Payload too large"),
    "method-not-allowed": ("不支持这种请求方法", "Method not allowed"),
    "http-error": ("请求出错", "HTTP error"),
    "internal-error": ("服务器内部错误", "Internal error"),
    "invalid-period": ("期间不符合要求", "The period is not valid"),
    "idempotency-key-in-flight": ("同一请求仍在处理中", "Request in flight"),
    "idempotency-key-required": ("缺少幂等键", "Idempotency-Key required"),
    "idempotency-key-invalid": ("幂等键不符合要求", "Idempotency-Key not valid"),
    "not-ready": ("尚未就绪", "Not ready"),
    "projections-behind": ("数据视图还没有更新完", "Read models are behind"),
    "community-required": ("需要指明社区", "A community is required"),
    "import-file-refused": ("文件无法导入", "The file cannot be imported"),
    "import-has-problems": ("文件中有错误的行，什么也没有导入",
                            "The file has rows with problems; nothing was imported"),
    "import-running": ("正在导入另一个文件", "Another file is being imported"),
    "import-too-large": ("文件太大", "The file is too large"),
    "tampered-event": ("存储的事件未通过完整性校验", "A stored event failed its integrity check"),
}

THINGS: dict[str, tuple[str, str]] = {
    "member": ("居民", "member"),
    "community": ("社区", "community"),
    "household": ("住户", "household"),
    "merchant": ("商户", "merchant"),
    "webhook": ("推送订阅", "webhook"),
    "delivery": ("推送记录", "delivery"),
    "grid": ("网格", "grid"),
    "rule": ("积分规则", "rule"),
    "award": ("积分发放", "award"),
    "redemption": ("兑换", "redemption"),
    "hold": ("预扣", "hold"),
    "account": ("账户", "account"),
    "team": ("志愿服务队", "team"),
    "activity": ("活动", "activity"),
    "service request": ("服务订单", "service request"),
    "servicerequest": ("服务订单", "service request"),
    "api key": ("密钥", "API key"),
    "apikey": ("密钥", "API key"),
    "page": ("页面", "page"),
    "signinlink": ("登录链接", "sign-in link"),
    "interchange": ("通存通兑协议", "interchange"),
    "rulebook": ("积分细则", "rulebook"),
    "servicecatalogue": ("服务目录", "service catalogue"),
    "timebankpool": ("公益时间池", "time-bank pool"),
    "wish": ("微心愿", "wish"),
    "wishboard": ("微心愿", "wish board"),
    "careroster": ("关爱名单", "care roster"),
    "proposal": ("民意建议", "proposal"),
    "proposallist": ("民生清单", "proposal list"),
    "building": ("楼栋", "building"),
    "district": ("街道", "district"),
    "districtagreement": ("街道间通存通兑协议", "agreement between districts"),
    "districtsettlement": ("街道结算", "district settlement"),
}

DETAILS: dict[str, tuple[str, str]] = {
    # --- not found ------------------------------------------------------------------------
    "not-found": ("没有找到这个{thing}", "no such {thing} was found"),
    "webhook-url-scheme": ("推送地址必须是 http 或 https 网址：{url}",
                           "the webhook URL must be an http or https URL: {url}"),
    "webhook-url-self": ("推送地址不能指向本服务器：{url}",
                         "the webhook URL must not point at this server: {url}"),
    "webhook-url-private": ("推送地址 {host} 是本机、内网、链路本地或云元数据地址，不能推送",
                            "{host} is a loopback, private, link-local or metadata address"),
    "webhook-url-unresolved": ("推送地址的主机 {host} 无法解析",
                               "the webhook URL's host {host} does not resolve"),
    "webhook-needs-events": ("请至少选择一种推送的事件（events）",
                             "name at least one kind of event (events)"),
    "webhook-needs-owner": ("请指明订阅的社区（community_id）或商户（merchant_id）",
                            "name the community_id or merchant_id the webhook is for"),
    "webhook-disabled": ("这个推送订阅已停用（{reason}），请先启用再重新投递",
                         "the webhook is disabled ({reason}); enable it before redelivering"),
    "passbook-not-found": ("没有找到这个存折号的居民，请核对存折号",
                           "no member with that passbook number was found"),
    "grid-not-in-community": ("这个网格不属于本社区", "the grid is not of this community"),
    "household-not-in-community": ("这户不属于本社区", "the household is not of this community"),
    "member-not-in-community": ("这位居民不属于本社区", "the member is not of this community"),
    "member-not-in-team": ("这位居民不在志愿服务队“{team}”中",
                           "the member is not in the team “{team}”"),
    "rule-not-in-rulebook": ("本社区的积分细则里没有规则 {code}",
                             "rule {code} is not in this community's rulebook"),
    "no-account": ("没有这个账户", "there is no such account"),
    "no-minutes-to-certify": ("这位居民还没有可以证明的志愿服务时长",
                              "the member has no volunteer service to certify"),
    "no-page": ("没有这个页面", "there is no such page"),
    # --- balances, caps, limits -------------------------------------------------------------
    "member-points-short": ("积分不足：居民可用积分只有{available}分，不够{asked}分",
                            "the member has {available} points available, not {asked}"),
    "member-minutes-short": ("时长不足：居民可用时长只有{available}分钟，不够{asked}分钟",
                             "the member has {available} minutes available, not {asked}"),
    "merchant-unsettled-short": ("商户未结算的积分只有{available}分，不够退还{asked}分"
                                 "（已结算的积分不能再退）",
                                 "the merchant has {available} unsettled points, not the "
                                 "{asked} to refund (settled points are not refunded)"),
    "balance-short": ("余额只有{available}，不够{asked}", "{available} is available, not {asked}"),
    "minutes-short": ("可用时长只有{available}分钟，不够{asked}分钟",
                      "{available} minutes are spendable, not {asked}"),
    "minutes-short-restricted": ("可用时长只有{available}分钟，不够{asked}分钟（其中{restricted}"
                                 "分钟是随服务队获得的，只能捐赠）",
                                 "{available} minutes are spendable, not {asked} ({restricted} "
                                 "minutes earned with a team can only be donated)"),
    "pool-short": ("公益时间池只有{available}分钟，不够{asked}分钟",
                   "the pool holds {available} minutes, not {asked}"),
    "redemption-limit": ("居民{day}最多兑换{limit}分，还剩{left}分",
                         "{left} of the {limit} points a member may redeem on {day} are left"),
    "cap-reached": ("这条规则本期的上限已经用完",
                    "the rule's cap for this period is already reached"),
    "storage-cap": ("居民已存{balance}分钟，上限{cap}分钟，最多还能存{room}分钟",
                    "the member stores {balance} minutes; the cap is {cap}, so at most "
                    "{room} more"),
    "storage-room": ("对方最多还能存{room}分钟",
                     "the recipient may store at most {room} more minutes"),
    "credit-limit": ("居民所在社区将欠服务社区{after}分钟，超过约定的额度{limit}分钟",
                     "the member's community would owe {after} minutes; the agreement allows "
                     "{limit}"),
    "district-credit-limit": ("居民所在街道将欠服务街道{after}分钟，超过约定的额度{limit}分钟",
                              "the member's district would owe {after} minutes; the agreement "
                              "allows {limit}"),
    "community-in-district": ("社区“{community}”已经属于一个街道，一个社区只能属于一个街道",
                              "the community “{community}” is in a district already; a "
                              "community belongs to at most one"),
    "agreement-own-district": ("通存通兑协议要与另一个街道签订，本街道的社区之间本来就通存通兑",
                               "an agreement is made with another district: the communities of "
                               "one district serve each other already"),
    "period-invalid": ("期间“{period}”应写作年份（2026）、季度（2026-Q4）或月份（2026-11）",
                       "the period “{period}” is a year (2026), a quarter (2026-Q4) or a month "
                       "(2026-11)"),
    "district-board-options": ("街道的排行榜按居民或住户排名，不再指明社区、网格、楼栋或服务队",
                               "a district's board ranks members or households; it takes no "
                               "community_id, grid_id or team"),
    "negative-limit": ("额度不能是负数", "a limit cannot be negative"),
    "settlement-overlaps": ("{months}已经结算过，结算期间不能重叠",
                            "{months} was settled already; settlement periods do not overlap"),
    "nothing-in-period": ("{period}各社区之间没有需要结算的通存通兑时长",
                          "in {period} the communities owe each other nothing to settle"),
    "period-not-over": ("{period}还没有结束，结束后才能结算",
                        "{period} is not over yet; it is settled once it is"),
    "concurrent": ("记录同时被多次修改，请重试", "the records changed under this request too "
                   "often; retry it"),
    "write-not-taken": ("数据库未能保存这笔写入，什么也没有改变，可以重试。",
                        "the database did not save this write; nothing changed; retry it."),
    "database-unavailable": ("数据库暂时连不上（可能正在切换主库），请稍后重试；写入请用同一个 "
                             "Idempotency-Key 重试。", "the database cannot be reached for the "
                             "moment (a failover may be under way); retry shortly, a write "
                             "with the same Idempotency-Key."),
    "write-unknown": ("数据库可能没有保存这笔写入，请用同一个 Idempotency-Key 重试。",
                      "the database may not have saved this write; retry with the same "
                      "Idempotency-Key."),
    "refund-exceeds": ("这笔兑换{points}分，只剩{left}分可退", "only {left} of the {points} "
                       "points are left to refund"),
    "capture-exceeds": ("预扣的是{points}分，不能扣{asked}分",
                        "the hold is for {points} points, not {asked}"),
    "hold-captured": ("预扣已经扣款（兑换编号{redemption}），不能再操作",
                      "the hold was already captured as redemption {redemption}"),
    "hold-voided": ("预扣已经撤销，不能再操作", "the hold was voided"),
    "hold-expired": ("预扣已于{at}过期", "the hold expired at {at}"),
    "nothing-to-settle": ("商户“{merchant}”没有未结算的积分",
                          "the merchant “{merchant}” has no unsettled points"),
    "reversal-exceeds": ("这笔发放还剩{left}分可冲正，不能冲正{asked}分",
                         "{left} points of the award are left to reverse, not {asked}"),
    "award-reversed": ("这笔发放已经全部冲正，不能再冲正", "the award is already reversed in full"),
    "already-sealed": ("账本已封存到第{through}条，不是第{previous}条",
                       "the log is sealed through {through}, not {previous}"),
    # --- states ------------------------------------------------------------------------------
    "award-state": ("这笔发放{status}，不能{step}", "cannot {step} an award that is {status}"),
    "order-state": ("这张服务订单{status}，不能{step}",
                    "cannot {step} a service request that is {status}"),
    "order-team-accepts": ("派给服务队的订单由队员接单", "an order dispatched to a team is "
                           "accepted by one of its members"),
    "order-taken": ("这张订单已经被队里另一位志愿者接了",
                    "the order was already taken by a member of the team"),
    "order-not-due": ("这张服务订单还不到自动确认的时候",
                      "the service request is not due to confirm"),
    "own-request": ("居民不能为自己的服务订单服务", "the requester cannot serve their own request"),
    "serve-self": ("志愿者不能为自己服务", "a volunteer cannot serve themselves"),
    "order-not-members": ("这张服务订单不是这位居民的", "the service request is not the member's"),
    "rule-retired": ("规则 {code} 已停用，不能再按它发放积分",
                     "rule {code} is retired: nothing is awarded under it"),
    "member-moved-out": ("该居民已迁出，不能再获得、使用或存取积分和时长；余额和记录仍可查询",
                         "the member moved out: they earn, redeem, deposit and withdraw nothing; "
                         "balances and history can still be read"),
    "member-already-erased": ("该居民的个人信息已注销：不再记录或显示其姓名、生日等个人信息；"
                              "积分和记录仍然保留",
                              "the member's personal data was erased: no personal data is kept "
                              "or shown any more; points and history stay"),
    "household-already-erased": ("该户的地址已注销", "the household's address was erased"),
    "member-deceased": ("该居民已去世，不能再获得、使用或存取积分和时长；余额和记录仍可查询",
                        "the member died: nothing is earned, redeemed, deposited or withdrawn; "
                        "balances and history can still be read"),
    "merchant-closed": ("商户“{merchant}”已停业，不能再收积分",
                        "the merchant “{merchant}” is closed and takes no points"),
    "already-in-team": ("这位居民已经在志愿服务队“{team}”中了",
                        "the member is already in the team “{team}”"),
    "member-of-another-community": ("{member}不是志愿服务队“{team}”所在社区的居民",
                                    "{member} is not of the team “{team}”'s community"),
    "team-of-another-community": ("这个志愿服务队不属于订单所在的社区",
                                  "the team is not of the order's community"),
    "service-not-in-catalogue": ("服务项目“{code}”不在本社区的服务目录中（目录里有：{listed}）",
                                 "service “{code}” is not in this community's catalogue "
                                 "({listed})"),
    "gift-relatives-only": ("本社区只允许把时长转赠给登记的亲属或同户居民",
                            "this community allows gifts of minutes only to registered "
                            "relatives or members of the same household"),
    "gift-to-self": ("转赠要给另一位居民", "a gift goes to another member"),
    "age-no-birth-date": ("居民年满{age}岁才能支取时长，这位居民没有登记出生日期",
                          "members withdraw from age {age}; this member has no birth date"),
    "age-too-young": ("居民年满{age}岁才能支取时长，这位居民{actual}岁",
                      "members withdraw from age {age}; this member is {actual}"),
    "own-partner": ("社区不能和自己签通存通兑协议", "a community is not its own partner"),
    "own-relative": ("居民不能登记为自己的亲属", "a member is not their own relative"),
    "birth-date-future": ("出生日期不能是将来的日子", "a birth date is not in the future"),
    # --- awards ------------------------------------------------------------------------------
    "occurred-in-future": ("发生时间不能是将来", "occurred_at is in the future"),
    "occurred-too-long-ago": ("发生时间不能早于{days}天前", "occurred_at is more than {days} "
                              "days ago"),
    "rule-per-hour": ("这条规则按小时计：请填分钟数，不要填次数",
                      "this rule counts per hour: give minutes, not quantity"),
    "rule-per-time": ("这条规则按次计：请填次数，不要填分钟数",
                      "this rule counts each time: give quantity, not minutes"),
    "under-one-point": ("这样算下来不到1分", "that earns less than one point"),
    "award-too-big": ("一次发放最多{max}分", "one award moves at most {max} points"),
    "four-eyes": ("本社区的发放须由另一位工作人员审核，不能审核自己登记的发放",
                  "another staff member must approve an award this staff member recorded"),
    # --- activities ----------------------------------------------------------------------------
    "activity-closed": ("活动“{title}”已经结束签到", "the activity “{title}” is closed"),
    "check-in-code-other": ("签到码不是这个活动的，请重新扫描现场的二维码",
                            "the check-in code is not this activity's: scan the code on site"),
    "check-in-window": ("签到时间是活动开始前{minutes}分钟到活动结束",
                        "check in from {minutes} minutes before the start to the end"),
    "already-checked-in": ("这位居民已经签到过了", "the member has already checked in"),
    "not-checked-in": ("这位居民还没有签到，不能签退", "the member has not checked in"),
    "already-checked-out": ("这位居民已经签退过了", "the member has already checked out"),
    "activity-ends-before-start": ("活动结束时间要晚于开始时间", "ends_at must be after starts_at"),
    "activity-too-long": ("一个活动最长{hours}小时", "an activity lasts at most {hours} hours"),
    "activity-rule-hourly": ("活动的积分规则要按小时计", "an activity's rule counts by the hour"),
    "check-in-needs-code": ("居民签到要用活动的签到码",
                            "a member checks in with the activity's code"),
    "check-in-needs-member": ("工作人员代签要指明居民（member_id）",
                              "staff name the member (member_id)"),
    # --- payment codes, PINs, keys ------------------------------------------------------------
    "payment-code-needed": ("本社区用积分需居民出示付款码（或存折号加密码），不能只凭会员编号扣分",
                            "this community takes points by the member's payment code (or "
                            "passbook number and PIN), not by member id"),
    "payment-code-invalid": ("付款码无效或已过期，请居民刷新付款码后再扫",
                             "the payment code is invalid or expired: refresh it and scan again"),
    "payment-code-digits": ("付款码是{digits}位数字，请重新扫码或输入",
                            "a payment code has {digits} digits: scan or type it again"),
    "payment-code-used": ("付款码已使用，请居民刷新付款码后再付",
                          "the payment code was used: refresh it and pay again"),
    "payment-code-elsewhere": ("这个付款码不是本社区居民的，不能在这里使用",
                               "the payment code is not a member's of this community"),
    "pin-wrong": ("存折号或密码不对，请重新输入", "wrong passbook number or PIN"),
    "pin-not-set": ("存折号或密码不对；没有设置密码的居民，请到社区服务站设置",
                    "wrong passbook number or PIN; a member without a PIN sets one at the "
                    "community's service desk"),
    "pin-tries-left": ("存折号或密码不对；再输错{left}次将锁定{minutes}分钟",
                       "wrong passbook number or PIN; {left} more wrong tries lock it for "
                       "{minutes} minutes"),
    "pin-now-locked": ("存折号或密码不对；已连续输错{tries}次，密码锁定{minutes}分钟",
                       "wrong passbook number or PIN; after {tries} wrong tries the PIN is "
                       "locked for {minutes} minutes"),
    "pin-locked": ("连续输错{tries}次，密码已锁定{minutes}分钟；请稍后再试，或到社区服务站重设密码",
                   "after {tries} wrong tries the PIN is locked for {minutes} minutes; try "
                   "later, or reset it at the service desk"),
    "pin-tries-merchant": ("本商户输错密码次数过多，请{wait}秒后再试",
                           "too many wrong PINs at this merchant: retry after {wait} s"),
    "not-a-sign-in-link": ("这个令牌不是登录链接里的，无需换取",
                           "this token is not a sign-in link's: nothing to trade"),
    "sign-in-link-spent": ("这个登录链接已失效（用过或已过期），请向社区工作人员要新的登录链接",
                           "the sign-in link was used or expired: ask staff for a new one"),
    "key-expiry-past": ("到期时间{at}已过，请给一个将来的时间",
                        "the expiry {at} is past: give a time to come"),
    "key-needs-merchant": ("商户的密钥要指明商户（merchant_id）",
                           "a merchant key needs merchant_id"),
    "key-needs-member": ("居民的密钥要指明居民（member_id）", "a member key needs member_id"),
    "key-needs-community": ("工作人员的密钥要指明社区（community_id）",
                            "a staff key needs community_id"),
    "key-needs-district": ("街道的密钥要指明街道（district_id）",
                           "a district's key needs district_id"),
    "key-system-role": ("不能为系统角色发放密钥", "no key can be issued for the system role"),
    "key-not-revocable": ("社区工作人员只能吊销本社区居民和商户的密钥（此密钥的角色：{role}）",
                          "staff revoke only member and merchant keys of their community "
                          "(this key's role: {role})"),
    "staff-issue-keys": ("社区工作人员只能发放居民和商户的密钥",
                         "staff may issue member and merchant keys only"),
    "forbidden": ("你无权这样做", "you may not do this"),
    "role-may-not": ("当前角色（{role}）无权这样做", "the {role} role may not do this"),
    "merchant-only": ("只有商户的密钥才能这样做", "only a merchant's key can do this"),
    "unscoped-auditor": ("事件流和校验覆盖所有社区，需要不限社区的审计密钥",
                         "the events feed and verify cover every community: they need an "
                         "auditor token not scoped to one community"),
    "token-missing": ("请先登录（缺少令牌）", "send a bearer token"),
    "token-unknown": ("令牌无效或已吊销，请重新登录", "the token is unknown, expired or revoked"),
    # --- the HTTP layer --------------------------------------------------------------------------
    "idempotency-key-reused": ("这个幂等键已用于另一个请求", "this Idempotency-Key was first used "
                               "with a different request"),
    "idempotency-key-other-pin": ("这个幂等键已用于另一个密码",
                                  "this Idempotency-Key was first used with another PIN"),
    "idempotency-key-in-flight": ("同一个请求还在处理中，请稍候", "a request with this "
                                  "Idempotency-Key is still being processed"),
    "idempotency-key-required": ("请在 Idempotency-Key 请求头中给每次操作一个唯一的键",
                                 "send an Idempotency-Key header (a unique string per operation)"),
    "idempotency-key-too-long": ("幂等键最多{max}个字符",
                                 "an Idempotency-Key has at most {max} characters"),
    "idempotency-key-empty": ("幂等键不能为空", "an Idempotency-Key, when sent, is a non-empty "
                              "string"),
    "too-many-tokens": ("这个地址输错令牌次数过多，请{wait}秒后再试",
                        "too many unknown tokens from this address; retry after {wait} s"),
    "too-many-requests": ("请求太频繁（每秒最多{rate}次），请{wait}秒后再试",
                          "at most {rate} requests a second; retry after {wait} s"),
    "projections-behind": ("数据视图没能及时更新，请稍后重试",
                           "the read models did not catch up in time; retry shortly"),
    "community-required": ("请指明社区（community_id）", "give community_id"),
    "database-down": ("数据库暂时无法连接，请稍后再试。", "the database cannot be reached; retry "
                      "later."),
    "projections-stopped": ("数据视图的更新进程没有运行。", "the projections are not running."),
    "body-too-large": ("请求内容最多{max}字节", "a request body has at most {max} bytes"),
    "internal-error": ("服务器出错了，这次操作没有完成",
                       "the server failed; nothing is reported as done"),
    "http-not-found": ("没有这个地址", "there is no such address"),
    "method-not-allowed": ("这个地址不支持这种请求方法", "the address does not take this method"),
    "http-error": ("请求出错", "the request failed"),
    "period": ("期间“{period}”不对：可以是 all、年份（2026）、季度（2026-Q4）或月份（2026-11）",
               "period {period}: use all, a year (2026), a quarter (2026-Q4) or a month "
               "(2026-11)"),
    "quarter": ("季度“{quarter}”不对：应写成 2026-Q4 这样", "quarter {quarter}: write it like "
                "2026-Q4"),
    "unknown-time-zone": ("不认识时区“{zone}”（例如 Asia/Shanghai）",
                          "unknown time zone {zone} (e.g. Asia/Shanghai)"),
    "award-ids": ("ids 是用逗号分隔的发放编号", "ids are award ids separated by commas"),
    "award-ids-max": ("最多{max}个编号", "at most {max} ids"),
    "cursor": ("cursor 不是这份名单上一页给出的 next_cursor",
               "cursor is not the next_cursor this list gave"),
    "qr-text": ("二维码的文字要有1到{max}个字符", "the text of a QR code is 1 to {max} characters"),
    "blank-service-code": ("服务项目代码不能为空", "a service code is not blank"),
    "one-owner": ("请在 member_id 和 merchant_id 中只填一个",
                  "give exactly one of member_id and merchant_id"),
    "amount-zero": ("调整的数额不能是0", "amount must not be zero"),
    "to-after-from": ("结束时间（to）要晚于开始时间（from）", "`to` must be after `from`"),
    "certificate-code": ("证明编号不对，请核对后再输入", "the certificate code is not valid"),
    "verify-too-often": ("查询太频繁，请{wait}秒后再试", "too many checks; retry after {wait} s"),
    # --- the JSON body ----------------------------------------------------------------------------
    "json-duplicate-key": ("字段“{name}”出现了两次", "the key {name} appears twice"),
    "json-int-too-long": ("整数最多{max}位", "an integer has more than {max} digits"),
    "json-not-utf8": ("请求内容不是 UTF-8 编码（第{at}字节）", "the body is not UTF-8 (at byte "
                      "{at})"),
    "json-too-deep": ("JSON 嵌套超过{max}层", "JSON nested deeper than {max}"),
    "json-malformed": ("请求内容不是有效的 JSON（第{line}行第{column}列）",
                       "the body is not JSON (line {line} column {column})"),
    "json-unreadable": ("请求内容无法读取", "the body cannot be read"),
    "json-nul": ("文字里不能有 NUL 字符（\\u0000）", "text must not contain NUL (\\u0000)"),
    # --- validation (pydantic), one per kind of mistake; {field} is the field's label ---------
    "field-missing": ("缺少{field}", "{field} is missing"),
    "field-range": ("{field}必须是{low}到{high}之间的整数", "{field} must be a whole number from "
                    "{low} to {high}"),
    "field-at-least": ("{field}不能小于{limit}", "{field} must be at least {limit}"),
    "field-above": ("{field}必须大于{limit}", "{field} must be more than {limit}"),
    "field-at-most": ("{field}不能大于{limit}", "{field} must be at most {limit}"),
    "field-below": ("{field}必须小于{limit}", "{field} must be less than {limit}"),
    "field-integer": ("{field}必须是整数", "{field} must be a whole number"),
    "field-number": ("{field}必须是数字", "{field} must be a number"),
    "field-text": ("{field}必须是文字", "{field} must be text"),
    "field-bool": ("{field}只能是 true 或 false", "{field} must be true or false"),
    "field-too-long": ("{field}最多{limit}个字", "{field} has at most {limit} characters"),
    "field-too-short": ("{field}至少要{limit}个字", "{field} needs at least {limit} characters"),
    "field-list-too-long": ("{field}最多{limit}项", "{field} has at most {limit} items"),
    "field-list-too-short": ("{field}至少要{limit}项", "{field} needs at least {limit} items"),
    "field-id": ("{field}不是有效的编号", "{field} is not a valid id"),
    "field-instant": ("{field}不是有效的时间（例如 2026-11-23T08:00:00+08:00）",
                      "{field} is not a valid instant (e.g. 2026-11-23T08:00:00+08:00)"),
    "field-date": ("{field}不是有效的日期（例如 2026-11-23）",
                   "{field} is not a valid date (e.g. 2026-11-23)"),
    "field-choice": ("{field}只能是：{choices}", "{field} must be one of: {choices}"),
    "field-unknown": ("不认识的字段“{field}”", "unknown field {field}"),
    "field-list": ("{field}必须是列表", "{field} must be a list"),
    "field-object": ("{field}必须是对象", "{field} must be an object"),
    "field-pattern": ("{field}的格式不对", "{field} is not in the expected form"),
    "field-invalid": ("{field}不符合要求", "{field} is not valid"),
    "field-whole-or-absent": ("{field}要填整数，或者不填", "{field}: give a whole number, or "
                              "leave the field out"),
    "field-not-null": ("{field}不能为空", "{field} cannot be null"),
    "field-unique-members": ("{field}里每位居民只能出现一次", "{field}: each member may be named "
                             "once"),
    "field-unique-awards": ("{field}里每笔积分只能出现一次", "{field}: each award may be named "
                            "once"),
    "field-code-or-member": ("请填签到码（居民自己）或 member_id（工作人员代签），只填一个",
                             "give exactly one of code (a member's own) or member_id (staff)"),
    "field-member-or-passbook": ("指明居民用 member_id 或 passbook_no，二者选一",
                                 "name the member by member_id or passbook_no, one of them"),
    "field-one-way": ("指明居民只用一种方式：member_id、payment_code，或 passbook_no 加 pin",
                      "name the member one way: member_id, payment_code, or passbook_no with pin"),
    "field-pin-with-passbook": ("存折号和密码要一起填", "passbook_no and pin go together"),
    "field-birth-date-future": ("出生日期不能是将来的日子", "birth_date cannot be in the future"),
    "field-volunteer-or-team": ("请在 volunteer_id 和 team_id 中只填一个",
                                "name either volunteer_id or team_id"),
    "field-rfc3339": ("{field}要写成 2026-11-23T08:00:00+08:00 这样的时间",
                      "{field}: give an RFC 3339 instant such as 2026-11-23T08:00:00+08:00"),
    "field-day": ("{field}要写成 2026-11-23 这样的日期", "{field}: give a day as YYYY-MM-DD"),
    "where-path": ("地址中的{field}", "{field} in the address"),
    "where-query": ("查询参数“{field}”", "query parameter {field}"),
    "where-header": ("请求头“{field}”", "header {field}"),
    "import-running": ("本社区正在导入另一个文件，请等它完成后再试",
                       "another file is being imported into this community; retry once it "
                       "is done"),
    "import-has-problems": ("{rejected} 行有错误，整个文件都没有导入；"
                            "请按预检列出的问题改正后再导入",
                            "{rejected} rows have problems, so nothing of the file was "
                            "imported; correct what the dry run lists and import it again"),
    "tampered-event": ("流 {stream} 第 {version} 版的事件未通过完整性校验："
                       "它不是本系统写入的，已拒绝使用",
                       "the event of stream {stream}, version {version} failed its integrity "
                       "check: Linli did not write it, and refuses it"),
    "tampered-no-key": ("没有事件 MAC 密钥，不能写入（请先运行 linli keys init）",
                        "there is no event MAC key, so nothing can be written (run linli keys "
                        "init)"),
    "import-cap-room": ("已超过规则上限：还可以记 {room} 积分，本行 {points} 积分",
                        "over the rule's cap: {room} points may still be given, the row "
                        "gives {points}"),
    "import-contended": ("导入时账户一再被其他请求修改，请稍后用同一文件重试（已导入的行不会重复）",
                         "other requests kept changing the accounts being imported: retry "
                         "the same file later (rows already imported are not posted again)"),
    "import-no-rows": ("文件只有表头，没有数据行", "the file has a header row and no rows"),
    "import-no-header": ("文件的第一行不是表头", "the file's first row is not a header row"),
    "import-header-repeated": ("表头“{header}”与“{first}”重复",
                               "the header “{header}” repeats “{first}”"),
    "import-header-unknown": ("无法识别的表头：{headers}；{kind}可用的表头：{known}",
                              "unknown headers: {headers}; a file of {kind} takes: {known}"),
    "import-header-missing": ("缺少表头：{headers}", "a header is missing: {headers}"),
    "import-empty": ("文件是空的", "the file is empty"),
    "import-too-large": ("文件超过了 {megabytes} MB", "the file is over {megabytes} MB"),
    "import-utf16": ("文件编码是 UTF-16，请在 Excel 中另存为“CSV UTF-8”或 XLSX 后再导入",
                     "the file is UTF-16: save it from Excel as “CSV UTF-8” or XLSX and "
                     "import it again"),
    "import-encoding": ("文件编码不是 UTF-8 或 GB18030，无法读取；请在 Excel 中另存为“CSV UTF-8”或 "
                        "XLSX 后再导入",
                        "the file is neither UTF-8 nor GB18030: save it from Excel as "
                        "“CSV UTF-8” or XLSX and import it again"),
    "import-csv-broken": ("第 {line} 行不是有效的 CSV", "line {line} is not valid CSV"),
    "import-xlsx-broken": ("文件不是有效的 XLSX 工作簿", "the file is not a valid XLSX workbook"),
    # --- care, wishes and voice -------------------------------------------------------------
    "not-in-care": ("这位居民不在关爱名单上", "the member is not in care"),
    "not-the-observer": ("只有这位居民的专属观察员或社区工作人员可以登记探访",
                         "only the member's observer or staff may log a visit"),
    "observer-is-resident": ("观察员不能是被关爱的居民本人",
                             "the observer cannot be the member in care"),
    "building-in-another-grid": ("楼栋“{building}”不在这个网格里",
                                 "the building {building} is in another grid"),
    "household-in-building": ("这户在一个楼栋里，请改楼栋（网格随楼栋）",
                              "the household is in a building: change its building (the grid "
                              "comes with it)"),
    "building-exists": ("这个网格已经有叫“{name}”的楼栋", "the grid has a building named {name}"),
    "wish-not-open": ("这个微心愿已被认领或已实现（当前：{status}）",
                      "the wish is no longer open (it is {status})"),
    "own-wish": ("不能认领自己的微心愿", "one cannot claim one's own wish"),
    "proposal-closed": ("这条民意已办结或不予采纳（当前：{status}），不能再改",
                        "the proposal is closed ({status})"),
    "proposal-step": ("这条民意当前是“{status}”，不能改为“{to}”",
                      "a proposal that is {status} cannot become {to}"),
    "reply-required": ("不予采纳时请写答复", "declining a proposal needs a reply"),
    "proposal-not-adopted": ("只有采纳的建议（已列入清单、办理中或已办结）才能奖励积分"
                             "（当前：{status}）",
                             "only an adopted proposal earns points (it is {status})"),
    "proposal-awarded": ("这条建议已经奖励过积分", "the proposal has earned its points already"),
    "wish-not-claimed": ("这个微心愿还没有人认领，或已经实现（当前：{status}）",
                         "the wish is not claimed (it is {status})"),
}

# Labels of the fields people fill in, for validation problems.
FIELDS: dict[str, tuple[str, str]] = {
    "points": ("积分", "points"),
    "minutes": ("分钟数", "minutes"),
    "quantity": ("次数", "quantity"),
    "amount": ("数额", "amount"),
    "name": ("名称", "name"),
    "description": ("说明", "description"),
    "reason": ("原因", "reason"),
    "note": ("备注", "note"),
    "title": ("标题", "title"),
    "place": ("地点", "place"),
    "label": ("标签", "label"),
    "code": ("代码", "code"),
    "rule_code": ("规则代码", "rule_code"),
    "member_id": ("居民编号", "member_id"),
    "member_ids": ("居民名单", "member_ids"),
    "merchant_id": ("商户编号", "merchant_id"),
    "community_id": ("社区编号", "community_id"),
    "household_id": ("户编号", "household_id"),
    "grid_id": ("网格编号", "grid_id"),
    "team_id": ("服务队编号", "team_id"),
    "volunteer_id": ("志愿者编号", "volunteer_id"),
    "redemption_id": ("兑换编号", "redemption_id"),
    "hold_id": ("预扣编号", "hold_id"),
    "award_id": ("发放编号", "award_id"),
    "activity_id": ("活动编号", "activity_id"),
    "request_id": ("服务订单编号", "request_id"),
    "payment_code": ("付款码", "payment_code"),
    "passbook_no": ("存折号", "passbook_no"),
    "pin": ("密码", "pin"),
    "role": ("角色", "role"),
    "unit": ("计分单位", "unit"),
    "daily_cap": ("每日上限", "daily_cap"),
    "occurred_at": ("发生时间", "occurred_at"),
    "starts_at": ("开始时间", "starts_at"),
    "ends_at": ("结束时间", "ends_at"),
    "expires_at": ("到期时间", "expires_at"),
    "birth_date": ("出生日期", "birth_date"),
    "address": ("地址", "address"),
    "phone": ("电话", "phone"),
    "time_zone": ("时区", "time_zone"),
    "limit": ("条数（limit）", "limit"),
    "cursor": ("翻页标记（cursor）", "cursor"),
    "period": ("期间", "period"),
    "quarter": ("季度", "quarter"),
    "asset": ("资产", "asset"),
    "status": ("状态", "status"),
    "default_minutes": ("默认分钟数", "default_minutes"),
    "service_type": ("服务项目", "service_type"),
    "sort_order": ("排序", "sort_order"),
    "body": ("请求内容", "the body"),
    "format": ("格式", "format"),
    "from": ("开始时间（from）", "from"),
    "to": ("结束时间（to）", "to"),
    "as_of": ("截至时间（as_of）", "as_of"),
    "top": ("名次（top）", "top"),
    "year": ("年份", "year"),
    "month": ("月份", "month"),
    "relation": ("关系", "relation"),
}

# Words of exports and printed papers: column headers, kinds of passbook lines, sections.
WORDS: dict[str, tuple[str, str]] = {
    # the 民生清单 (proposals)
    "proposal_list": ("民生清单", "proposals"),
    "proposal_number": ("序号", "no."),
    "proposal_priority": ("优先级", "priority"),
    "proposal_kind": ("类别", "kind"),
    "proposal_text": ("内容", "text"),
    "proposal_author": ("提出人", "author"),
    "proposal_building": ("楼栋", "building"),
    "proposal_status": ("状态", "status"),
    "proposal_reply": ("答复", "reply"),
    "proposal_posted_at": ("提出时间", "posted at"),
    "proposal_updated_at": ("更新时间", "updated at"),
    "proposal_points": ("奖励积分", "points awarded"),
    "proposal.proposal": ("建议", "proposal"),
    "proposal.complaint": ("诉求", "complaint"),
    "proposal.submitted": ("待处理", "submitted"),
    "proposal.listed": ("已列入清单", "listed"),
    "proposal.in_progress": ("办理中", "in progress"),
    "proposal.done": ("已办结", "done"),
    "proposal.declined": ("不予采纳", "declined"),
    # statements and passbooks
    "at": ("时间", "at"),
    "kind": ("类别", "kind"),
    "points": ("积分", "points"),
    "minutes": ("分钟", "minutes"),
    "amount": ("数额", "amount"),
    "balance_after": ("余额", "balance after"),
    "reference": ("凭证号", "reference"),
    "description": ("摘要", "description"),
    "opening_balance": ("期初余额", "opening balance"),
    "total_redeemed": ("合计：兑换", "total redeemed"),
    "total_refunded": ("合计：退还", "total refunded"),
    "total_settled": ("合计：结算", "total settled"),
    "total_unsettled": ("合计：未结算", "total unsettled"),
    "total_in": ("合计：收入", "total in"),
    "statement": ("对账单", "statement"),
    "review": ("季度积分评议", "quarterly review"),
    "dashboard": ("月度数据", "monthly figures"),
    "passbook": ("积分存折", "passbook"),
    "board": ("公益达人榜", "leaderboard"),
    "ledger": ("总账", "ledger"),
    "time_passbook": ("时间存折", "time-bank passbook"),
    "holder": ("户名", "name"),
    "passbook_no": ("存折号", "passbook no."),
    "community": ("社区", "community"),
    "period": ("期间", "period"),
    "all_time": ("全部", "all time"),
    "closing_balance": ("期末余额", "closing balance"),
    "printed_at": ("打印时间", "printed"),
    "counterparty": ("对方", "counterparty"),
    "occurred_at": ("发生时间", "occurred"),
    "in": ("收入", "in"),
    "out": ("支出", "out"),
    "board_title": ("公益达人榜公示", "Leaderboard notice"),
    "board_note": ("姓名已部分隐去；本人选择不公示的居民未列出。如有异议，请于公示期内向社区反映。",
                   "Names are masked; members who chose not to be shown are left off. Raise "
                   "any objection with the community during the notice period."),
    "no_lines": ("本期没有记录", "nothing recorded in the period"),
    "previous_quarter": ("上季度", "previous quarter"),
    "quarter": ("季度", "quarter"),
    "time_zone": ("时区", "time zone"),
    "total_out": ("合计：支出", "total out"),
    # kinds of passbook lines
    "award": ("积分发放", "award"),
    "award_reversal": ("发放冲正", "award reversal"),
    "award_part_reversal": ("发放部分冲正", "award part reversal"),
    "redemption": ("积分兑换", "redemption"),
    "refund": ("兑换退还", "refund"),
    "adjustment": ("调整", "adjustment"),
    "expiry": ("积分到期", "expiry"),
    "settlement": ("结算", "settlement"),
    "deposit": ("服务存入", "deposit"),
    "withdrawal": ("服务支取", "withdrawal"),
    "gift": ("转赠", "gift"),
    "donation": ("捐赠", "donation"),
    "allocation": ("公益池调拨", "allocation"),
    # the quarterly review
    "section": ("栏目", "section"),
    "rank": ("名次", "rank"),
    "key": ("代码", "key"),
    "name": ("名称", "name"),
    "value": ("本期", "value"),
    "previous": ("上期", "previous"),
    "change": ("变化", "change"),
    "summary": ("概况", "summary"),
    "top_members": ("居民排行", "top members"),
    "top_households": ("家庭排行", "top households"),
    "points_by_rule": ("按规则", "points by rule"),
    "points_by_grid": ("按网格", "points by grid"),
    "service": ("志愿服务", "service"),
    "points_earned": ("积分发放", "points earned"),
    "banked_minutes": ("时间银行存入(分钟)", "minutes banked"),
    "banked_hours": ("时间银行存入(小时)", "hours banked"),
    "participants": ("参与人数", "participants"),
    "members": ("居民人数", "members"),
    "participation_percent": ("参与率(%)", "participation (%)"),
    "requests": ("服务点单", "requests"),
    "completed": ("已完成", "completed"),
    "rated": ("已评价", "rated"),
    "satisfaction_percent": ("满意度(%)", "satisfaction (%)"),
    "median_dispatch_minutes": ("派单用时中位数(分钟)", "median dispatch (minutes)"),
    "median_completion_minutes": ("完成用时中位数(分钟)", "median completion (minutes)"),
    "no_grid": ("未分网格", "no grid"),
    # the dashboard
    "month": ("月份", "month"),
    "points_issued": ("发放积分", "points issued"),
    "points_redeemed": ("兑换积分", "points redeemed"),
    "points_refunded": ("退还积分", "points refunded"),
    "points_expired": ("到期积分", "points expired"),
    "minutes_deposited": ("存入分钟", "minutes deposited"),
    "minutes_withdrawn": ("支取分钟", "minutes withdrawn"),
    "active_volunteers": ("活跃志愿者", "active volunteers"),
    "rule": ("规则", "rule"),
    # a district's dashboard and settlement statements
    "district_dashboard": ("街道月度数据", "district monthly figures"),
    "volunteers": ("存入时长的志愿者", "volunteers who banked minutes"),
    "district_statement": ("通存通兑结算单", "interchange settlement statement"),
    "partner_community": ("对方社区", "partner community"),
    "minutes_payable": ("应付分钟", "minutes payable"),
    "minutes_receivable": ("应收分钟", "minutes receivable"),
    "net_minutes": ("净额（分钟，正数为应付）", "net minutes (positive: payable)"),
    "clearing_account": ("街道清算账户", "district clearing account"),
    # the ledger
    "position": ("序号", "position"),
    "recorded_at": ("记录时间", "recorded at"),
    "transaction_id": ("交易编号", "transaction id"),
    "account_id": ("账户编号", "account id"),
    "owner_kind": ("账户类型", "owner kind"),
    "owner_id": ("户主编号", "owner id"),
    "community_id": ("社区编号", "community id"),
    "asset": ("资产", "asset"),
    "counter_account": ("对方账户", "counter account"),
    "actor_id": ("操作人", "actor id"),
    "actor_role": ("操作角色", "actor role"),
    "member": ("居民", "member"),
    "merchant": ("商户", "merchant"),
    "system": ("系统", "system"),
    "pool": ("公益池", "pool"),
    "POINTS": ("积分", "points"),
    "MINUTES": ("时长", "minutes"),
    # boards
    "household": ("家庭", "household"),
    "team": ("服务队", "team"),
    "subject_id": ("编号", "id"),
    "earned": ("获得", "earned"),
    "grid": ("网格", "grid"),
}

# Integer fields whose allowed range a validation problem states in full.
RANGES: dict[str, tuple[int, int]] = {
    "points": (1, 1_000_000),
    "minutes": (1, 1_440),
}


def language(accept_language: str | None) -> Language:
    """`en` when the reader prefers English (`Accept-Language: en…`), otherwise `zh`: the
    first tag by weight that is Chinese or English decides; unknown ones are passed over."""
    if not accept_language:
        return ZH
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        choices.append((-weight, index, tag.strip().lower()))
    for weight, _, tag in sorted(choices):
        if weight == 0:
            break
        if tag == "en" or tag.startswith("en-"):
            return EN
        if tag == "zh" or tag.startswith("zh-"):
            return ZH
    return ZH


def _pick(pair: tuple[str, str], lang: Language) -> str:
    return pair[1] if lang == EN else pair[0]


def title(slug: str, lang: Language, fallback: str = "") -> str:
    """The title of problems with this slug (`fallback`, then the slug, when uncatalogued)."""
    pair = TITLES.get(slug)
    return _pick(pair, lang) if pair else (fallback or slug)


def field(name: str, lang: Language) -> str:
    """A field's label (its own name when uncatalogued)."""
    pair = FIELDS.get(name)
    return _pick(pair, lang) if pair else name


def detail(key: str, params: Mapping[str, object], lang: Language) -> str:
    """The detail `key` says, with its parameters, in `lang`; an uncatalogued key is shown as
    it is (text given where a key was due)."""
    pair = DETAILS.get(key)
    if pair is None:
        return key
    values = dict(params)
    thing = values.get("thing")
    if isinstance(thing, str) and thing in THINGS:
        values["thing"] = _pick(THINGS[thing], lang)
    try:
        return _pick(pair, lang).format_map(values)
    except (KeyError, IndexError, ValueError):
        return _pick(pair, lang)


def word(key: str, lang: Language) -> str:
    """A word of exports and papers (the key itself when uncatalogued)."""
    pair = WORDS.get(key)
    return _pick(pair, lang) if pair else key


def parameters(template: str) -> set[str]:
    """The names a template takes."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
