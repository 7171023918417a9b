"""The demo's fund projects (项目化, issue 6): about fifty a year across the street's
committees, spending each year's self-governance money before the year closes.

`projects_hook(year=…, world=…, users=…, rng=…)` is called by `linli.demo.funds.populate_funds`
once a year, after that year's allocations and before its close. Every step goes through the
real services (linli.projects.services, linli.deliberation.services for the topic that raised a
project, linli.notices.services for objections), so the rows, the ledger's transactions, the
notices and the audit events are what the pages would have produced:

- past years: nearly every project ends within its year: closed (accepted, scored by the three
  reviewers, a few residents' survey answers, the outcome published), a few rejected at the
  committee's check or the street's review, a few withdrawn, one or two sent back at acceptance
  and put right. Every approved project is paid (several payments against its lines, each with a
  tiny generated PDF invoice) and closed before 28 December, so what is left of its commitment
  is released before the year-end close returns the year's unspent money;
- the current year: projects at every stage. The first committee (the personas' own) has at
  least one in each state, with the variants the pages show: 0–2 of 3 reviews in, a public
  notice with an open objection and one with an answered one, a payment awaiting its second
  signature, a payment overdue for disclosure (the committee's warning), a survey open.

Who acts: in the first committee the personas (worker applies and requests payments, director
or secretary checks and co-signs); in the second the persona "stranger" applies; elsewhere the
committee's demo worker account (made by linli.demo.topics, or here the same way when topics were
not loaded) applies. Committees without a named director or secretary have their check and their
payments made by the system (actor None, which the services accept): a payment by the system
needs no second signature. The street's steps are the self-governance office's ("selfgov"), the
scores the three reviewers'. Residents with accounts in a committee raise its topics, object to
notices and answer surveys; where a committee has none, its worker raises the topic and nobody
answers the survey.

Dates. The projects of a year run side by side: each project is a plan of dated steps, and the
steps of all the year's projects are executed in date order, so the ledger's transactions come in
the order their dates say. Ledger postings are dated through the services' own `on=` arguments
(approval, payments, close) — never edited afterwards: the ledger is append-only and guarded by
triggers. The public notice's window is the one thing a demo cannot wait for: as in the tests'
`walk`, the notice is published, then its window is moved into the past before approval. After
each step, the records the services stamped with the wall clock are backdated to the step's date
by queryset `.update()`: ProjectStep.at, Review.submitted_at, Payment.requested_at/paid_at,
PaymentApproval.at, SurveyResponse.at, the notices' published_at/created_at/window_until, the
objections' created_at/answered_at, the topics' notifications, and at the end the project's
created_at/updated_at (none of these tables is guarded). Audit events keep the time they were
written (append-only).

Deterministic for a given world, seed and local date.
"""

import datetime as dt
import heapq
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Max, Sum
from django.urls import NoReverseMatch
from django.utils import timezone

from linli.accounts.models import RoleAssignment, User
from linli.accounts.roles import Role
from linli.deliberation import services as deliberation
from linli.deliberation.choices import TopicCategory
from linli.deliberation.models import Topic
from linli.demo.builder import World
from linli.funds.choices import AccountKind, FundKind
from linli.funds.models import Account
from linli.funds.selectors import balances_fen, profile_for
from linli.meetings.choices import MeetingState
from linli.meetings.models import Meeting
from linli.notices import services as notices
from linli.notices.models import Notice, Notification, Objection
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.projects import services
from linli.projects.choices import PaymentState, ProjectState, Stage
from linli.projects.constants import EVALUATION_CRITERIA, REVIEW_CRITERIA
from linli.projects.models import (
    Payment,
    PaymentApproval,
    Project,
    ProjectStep,
    Review,
    SurveyResponse,
)

S = ProjectState
C = TopicCategory
REVIEWERS = ("reviewer", "reviewer2", "reviewer3")
# Projects a committee applies for in a year: (the first committee, each other committee).
PAST_PER_COMMITTEE = [(6, (4, 5)), (6, (4, 6))]  # the oldest year first
CURRENT_OTHERS = (4, 6)
MIN_BUDGET = 3000
MONEY_USE = Decimal("0.9")  # of the year's self-governance money, at most, committed
LAST_CLOSE = (12, 28)  # past projects close by this day, before the year-end close


@dataclass(frozen=True)
class Kind:
    """A kind of self-governance project, with what a worker would write for it."""

    title: str  # "{compound}" is replaced by the compound it serves
    topic: str
    topic_body: str
    category: str
    plan: str
    beneficiaries: str
    count: tuple[int, int]
    budget: tuple[int, int]
    lines: tuple[tuple[str, str, int, str], ...]  # category, item, weight, payee
    report: str
    outcome: str


KINDS = [
    Kind(
        "{compound}楼道微更新",
        "楼道墙面脱落、杂物多，希望整体翻新",
        "几栋老楼的楼道墙皮大片脱落，扶手生锈，还堆着旧家具，希望居委会牵头翻新一下。",
        C.FACILITIES,
        "居民议事会商定，对{compound}6个楼道进行微更新：清理堆物、墙面修补粉刷、更换破损信报箱，"
        "由楼组长组织居民志愿者参与清理和配色投票，施工单位比价选定。",
        "{compound}相关楼道住户",
        (80, 220),
        (12000, 20000),
        (
            ("repairs", "楼道墙面修补及粉刷施工", 6, "上海安居建筑装饰工程有限公司"),
            ("materials", "涂料、腻子及修补材料", 3, "上海百家五金建材商行"),
            ("publicity", "楼道公约展板制作", 1, "上海申美印务有限公司"),
        ),
        "6个楼道已完成清理和粉刷，居民志愿者参与清理4次，共清出堆物约3吨。",
        "楼道面貌明显改善，楼组长牵头制定了楼道公约，约定每季度自查一次堆物。",
    ),
    Kind(
        "{compound}加装楼道扶手",
        "老人上下楼没有扶手，容易摔倒",
        "我们楼里七八十岁的老人不少，楼梯靠墙一侧没有扶手，下雨天尤其危险，希望加装。",
        C.ELDERLY_CHILDREN,
        "为{compound}无扶手的多层住宅楼梯靠墙一侧加装不锈钢扶手，施工前逐户征求意见，"
        "施工期间由楼组长协助通知，完工后组织老人试用验收。",
        "{compound}60岁以上老人及行动不便居民",
        (40, 120),
        (8000, 18000),
        (
            ("materials", "不锈钢扶手及安装配件", 6, "上海百家五金建材商行"),
            ("repairs", "扶手安装施工", 3, "上海安居建筑装饰工程有限公司"),
            ("insurance", "施工期间公众责任险", 1, "中国平安财产保险股份有限公司上海分公司"),
        ),
        "共加装扶手约260米，覆盖18个楼道，老人代表参加了试用。",
        "扶手全部安装到位，回访老人均表示上下楼更安心。",
    ),
    Kind(
        "睦邻点建设",
        "希望有个邻居们坐下来聊天的地方",
        "小区里没有公共活动的地方，老人们只能在门口站着聊天，建议把闲置的自行车库改成睦邻点。",
        C.SERVICES,
        "将闲置车库改造为睦邻点，配置桌椅、书架和茶水角，由居民志愿者排班开放，"
        "每周组织读报、棋牌、手工等活动，制定睦邻点使用公约。",
        "周边居民，以老年人和带孩子的家庭为主",
        (150, 400),
        (10000, 20000),
        (
            ("small_equipment", "桌椅、书架等活动家具", 5, "上海文华办公用品有限公司"),
            ("materials", "茶具、棋牌及活动用品", 2, "上海文华办公用品有限公司"),
            ("repairs", "车库墙面及照明整修", 3, "上海安居建筑装饰工程有限公司"),
        ),
        "睦邻点已开放，志愿者12人排班，每周开放5天，开展活动40余场。",
        "睦邻点成为居民日常聚会的去处，使用公约由居民自己制定并执行。",
    ),
    Kind(
        "老年助餐送餐服务",
        "行动不便的老人吃饭难",
        "有些独居老人腿脚不便，去助餐点很困难，希望能安排志愿者把饭菜送上门。",
        C.ELDERLY_CHILDREN,
        "依托街道助餐点，组织低龄老人和青年志愿者为高龄独居老人送餐上门，"
        "配置保温送餐箱，为送餐志愿者购买意外险，餐费由老人按标准自付。",
        "80岁以上独居及行动不便老人",
        (20, 60),
        (5000, 12000),
        (
            ("small_equipment", "保温送餐箱", 4, "上海文华办公用品有限公司"),
            ("insurance", "送餐志愿者意外险", 3, "中国平安财产保险股份有限公司上海分公司"),
            ("publicity", "助餐服务宣传单印制", 1, "上海申美印务有限公司"),
            ("transport", "送餐电动车租用", 2, "上海捷行车辆租赁有限公司"),
        ),
        "送餐志愿者队伍22人，全年送餐上门约5000份，无安全事故。",
        "高龄独居老人吃饭难问题得到缓解，送餐过程中同时开展了探访关爱。",
    ),
    Kind(
        "{compound}小区花园微更新",
        "小花园杂草丛生，希望改造",
        "小花园年久失修，花坛破损、杂草很多，蚊子也多，希望大家一起动手把它改造好。",
        C.ENVIRONMENT,
        "与居民共同设计{compound}花园改造方案：修补花坛、补种花苗、设置认养区，"
        "组织亲子种植活动，成立园艺志愿小组负责日常养护。",
        "{compound}全体居民",
        (300, 900),
        (10000, 20000),
        (
            ("materials", "花苗、绿植及营养土", 4, "上海绿邻园艺工程有限公司"),
            ("repairs", "花坛修砌", 3, "上海安居建筑装饰工程有限公司"),
            ("services", "园艺指导服务", 2, "上海绿邻园艺工程有限公司"),
            ("small_equipment", "园艺工具", 1, "上海百家五金建材商行"),
        ),
        "花园完成改造，补种花苗1200余株，认养花箱30个，开展亲子种植活动3次。",
        "花园由园艺志愿小组日常养护，成为小区居民休闲的好去处。",
    ),
    Kind(
        "垃圾分类宣传与志愿督导",
        "垃圾混投严重，需要有人在投放点指导",
        "垃圾箱房经常混投，湿垃圾不破袋，建议组织志愿者在投放时段值守指导。",
        C.ENVIRONMENT,
        "招募楼组志愿者在早晚投放时段值守指导，印制分类指南，"
        "在箱房加装破袋洗手装置，每月公布各楼组分类质量。",
        "全体居民",
        (800, 2500),
        (5000, 12000),
        (
            ("publicity", "分类指南与宣传海报印制", 3, "上海申美印务有限公司"),
            ("materials", "督导马甲、手套等志愿用品", 3, "上海文华办公用品有限公司"),
            ("small_equipment", "破袋洗手装置", 4, "上海百家五金建材商行"),
        ),
        "志愿者值守共计300余班次，湿垃圾纯净度明显提升。",
        "分类实效评估由原来的C级提升到A级，志愿值守形成常态。",
    ),
    Kind(
        "{compound}非机动车棚改造",
        "车棚漏雨、乱停乱放",
        "车棚顶棚破了好几个洞，一下雨车子全淋湿，车也停得乱，电动车还常被推进楼道。",
        C.SAFETY,
        "修缮{compound}车棚顶棚，增设停车架和分区标识，规范电动车停放，"
        "由居民自治小组制定停车公约并负责日常管理。",
        "{compound}骑车居民",
        (120, 300),
        (10000, 20000),
        (
            ("repairs", "车棚顶棚修缮", 5, "上海安居建筑装饰工程有限公司"),
            ("materials", "停车架及分区标识", 4, "上海百家五金建材商行"),
            ("publicity", "停车公约告示牌", 1, "上海申美印务有限公司"),
        ),
        "车棚顶棚已修缮，新增停车架60个，停车秩序明显好转。",
        "车棚由居民自治小组管理，楼道停放电动车的现象基本消除。",
    ),
    Kind(
        "居民议事厅布置",
        "开会没有像样的地方",
        "每次开居民会议都要临时借场地，希望把活动室布置成议事厅，方便大家商量事情。",
        C.SERVICES,
        "将居委会活动室布置为居民议事厅：配置会议桌椅、白板、扩音设备，"
        "制作议事规则展板，供居民议事会、楼组长会议使用。",
        "居民代表、楼组长及参加议事的居民",
        (100, 300),
        (8000, 15000),
        (
            ("small_equipment", "会议桌椅及白板", 5, "上海文华办公用品有限公司"),
            ("small_equipment", "便携扩音设备", 2, "上海文华办公用品有限公司"),
            ("publicity", "议事规则展板制作", 1, "上海申美印务有限公司"),
        ),
        "议事厅已投入使用，全年召开各类议事会议20余次。",
        "居民议事有了固定场所，议事规则上墙，议事流程更规范。",
    ),
    Kind(
        "儿童暑托班",
        "暑假双职工家庭孩子没人带",
        "暑假孩子放假在家，双职工家庭没人照看，希望居委会办个暑托班。",
        C.ELDERLY_CHILDREN,
        "利用活动室开办为期四周的儿童暑托班，开设作业辅导、手工、安全教育课程，"
        "邀请社区教师和大学生志愿者授课，为学员购买意外险。",
        "辖区6至12岁儿童及其家庭",
        (30, 60),
        (6000, 15000),
        (
            ("expert_fees", "授课教师课时费", 5, "上海青苗青少年发展服务中心"),
            ("materials", "手工材料及教具", 2, "上海文华办公用品有限公司"),
            ("insurance", "学员意外险", 1, "中国平安财产保险股份有限公司上海分公司"),
            ("publicity", "招生宣传及结业展示", 1, "上海申美印务有限公司"),
        ),
        "暑托班开班四周，学员45人，家长满意度调查良好。",
        "暑托班解决了双职工家庭的看护难题，家长志愿者参与管理。",
    ),
    Kind(
        "居民健康讲座系列",
        "老人希望多听听健康知识",
        "很多老人有高血压、糖尿病，希望请社区医生来讲讲怎么用药、怎么吃。",
        C.SERVICES,
        "与社区卫生服务中心合作，全年举办8场健康讲座，主题包括慢病管理、合理用药、"
        "防跌倒等，讲座后提供免费血压测量。",
        "辖区中老年居民",
        (200, 500),
        (3000, 8000),
        (
            ("expert_fees", "讲座医生讲课费", 5, "梧桐路街道社区卫生服务中心"),
            ("small_equipment", "电子血压计", 2, "上海瑞康医疗器械有限公司"),
            ("publicity", "讲座海报及健康手册印制", 2, "上海申美印务有限公司"),
        ),
        "举办健康讲座8场，参加居民约420人次，测量血压300余人次。",
        "居民健康意识提升，部分讲座应居民要求增加了答疑环节。",
    ),
    Kind(
        "{compound}加装电梯协商",
        "六层老楼想加装电梯",
        "我们楼里老人多，爬六楼太吃力，希望居委会帮忙组织全楼协商加装电梯。",
        C.FACILITIES,
        "组织{compound}有意愿的楼栋开展加装电梯协商：邀请律师和工程师解答政策与技术问题，"
        "召开楼组协商会，印制协商材料，协助形成全体业主意见书。",
        "{compound}多层住宅业主",
        (60, 180),
        (4000, 10000),
        (
            ("expert_fees", "律师及工程师咨询费", 6, "上海申和律师事务所"),
            ("publicity", "协商会议材料印制", 2, "上海申美印务有限公司"),
            ("venue", "协商会议场地租用", 1, "徐汇区梧桐睦邻服务中心"),
        ),
        "召开楼组协商会6次，2个楼栋形成全体业主同意书并提交申请。",
        "两个楼栋进入加装电梯审批程序，协商经验在其他楼栋推广。",
    ),
    Kind(
        "{compound}楼组自治公约",
        "楼道噪声和宠物问题需要大家定个规矩",
        "楼里装修噪声、宠物、堆物的矛盾不少，希望大家一起商量定个楼组公约。",
        C.NEIGHBOURS,
        "以楼组为单位组织居民讨论，形成楼组自治公约，印制张贴，开展楼组长培训，评选文明楼组。",
        "{compound}各楼组居民",
        (200, 600),
        (3000, 8000),
        (
            ("publicity", "公约印制及张贴", 3, "上海申美印务有限公司"),
            ("services", "楼组长培训", 3, "上海乐龄社会工作服务社"),
            ("materials", "楼组议事活动材料", 2, "上海文华办公用品有限公司"),
        ),
        "全部楼组完成公约讨论和签署，培训楼组长28人。",
        "楼组公约成为邻里矛盾调解的依据，相关投诉明显减少。",
    ),
    Kind(
        "{compound}楼道照明改造",
        "楼道灯太暗，晚上下楼不安全",
        "楼道灯坏了很多，晚上黑漆漆的，老人下楼很危险，希望换成声控节能灯。",
        C.SAFETY,
        "为{compound}楼道更换声控节能灯，居民志愿者协助排查损坏灯具，电工比价选定。",
        "{compound}楼道住户",
        (150, 400),
        (6000, 14000),
        (
            ("materials", "声控节能灯具", 6, "上海明亮照明器材有限公司"),
            ("services", "电工安装服务", 3, "上海安居建筑装饰工程有限公司"),
        ),
        "共更换楼道灯具210盏，夜间照明全部恢复。",
        "楼道照明改善，居民志愿者建立了灯具巡查制度。",
    ),
    Kind(
        "睦邻书屋图书添置",
        "书屋的书太旧了",
        "睦邻书屋的书都是好多年前的，孩子们喜欢的绘本很少，希望添一些新书。",
        C.SERVICES,
        "征集居民书单，添置绘本、科普和生活类图书，增加书架，由志愿者管理借阅并每月组织读书会。",
        "辖区居民，以儿童和老年人为主",
        (200, 500),
        (4000, 9000),
        (
            ("materials", "图书及绘本", 6, "上海书城图书有限公司"),
            ("small_equipment", "书架", 3, "上海文华办公用品有限公司"),
        ),
        "新增图书1100册，全年借阅约2600人次，举办读书会10次。",
        "书屋借阅量翻了一番，读书会由居民志愿者轮流主持。",
    ),
    Kind(
        "老年人智能手机培训",
        "老人不会用手机挂号、扫码",
        "很多老人不会用手机挂号、付款、出示健康码，希望开个手机课教教大家。",
        C.ELDERLY_CHILDREN,
        "开设12期智能手机课，内容包括挂号、移动支付、防诈骗，"
        "由青年志愿者一对一辅导，印制图文操作手册。",
        "辖区60岁以上老人",
        (60, 150),
        (3000, 8000),
        (
            ("expert_fees", "培训讲师课时费", 5, "上海乐龄社会工作服务社"),
            ("publicity", "图文操作手册印制", 3, "上海申美印务有限公司"),
            ("materials", "培训用品", 1, "上海文华办公用品有限公司"),
        ),
        "完成培训12期，学员130人次，青年志愿者辅导200余小时。",
        "老人们基本学会了手机挂号和支付，部分学员成为了“小老师”。",
    ),
    Kind(
        "邻里节系列活动",
        "邻居之间互相不认识",
        "住了好多年，对门邻居都不认识，希望办些活动让大家熟悉起来。",
        C.NEIGHBOURS,
        "举办邻里节：邻里集市、才艺展示、亲子游戏和家庭老物件展，"
        "由居民团队自主策划，社会组织协助执行。",
        "全体居民",
        (500, 1500),
        (6000, 15000),
        (
            ("services", "活动策划执行服务", 5, "徐汇区梧桐睦邻服务中心"),
            ("publicity", "海报、横幅印制", 2, "上海申美印务有限公司"),
            ("materials", "活动物资", 2, "上海文华办公用品有限公司"),
            ("venue", "舞台音响租用", 2, "上海声悦文化传播有限公司"),
        ),
        "邻里节共举办活动5场，参与居民约1200人次。",
        "邻里关系更加融洽，居民自发成立了3支兴趣团队。",
    ),
    Kind(
        "独居老人关爱探访",
        "独居老人出了事没人知道",
        "楼里有几位独居老人，前阵子一位老人在家摔倒了两天才被发现，希望有人定期上门看看。",
        C.ELDERLY_CHILDREN,
        "组建“老伙伴”结对探访队伍，每周上门探访独居老人，"
        "为高龄独居老人配置紧急呼叫器，建立探访记录。",
        "辖区独居老人",
        (30, 90),
        (5000, 12000),
        (
            ("small_equipment", "紧急呼叫器", 5, "上海瑞康医疗器械有限公司"),
            ("services", "探访志愿者培训", 3, "上海乐龄社会工作服务社"),
            ("insurance", "探访志愿者意外险", 1, "中国平安财产保险股份有限公司上海分公司"),
        ),
        "结对探访独居老人62位，配置呼叫器40台，全年探访2800余次。",
        "独居老人遇到紧急情况能及时得到帮助，探访已成为常态。",
    ),
    Kind(
        "文明养犬倡议",
        "草坪上狗粪太多",
        "草坪和步道上经常有狗粪，建议设置拾便袋箱，并发起文明养犬倡议。",
        C.ENVIRONMENT,
        "在小区设置拾便袋箱，发起文明养犬倡议和签名活动，"
        "组织养犬居民成立自律小组，开展犬只免疫宣传。",
        "全体居民，其中养犬家庭约百户",
        (500, 1500),
        (3000, 7000),
        (
            ("small_equipment", "拾便袋箱", 4, "上海百家五金建材商行"),
            ("materials", "拾便袋", 3, "上海文华办公用品有限公司"),
            ("publicity", "倡议海报及告示牌", 2, "上海申美印务有限公司"),
        ),
        "设置拾便袋箱20个，签署文明养犬承诺书的家庭近百户。",
        "草坪环境明显改善，养犬自律小组每月开展巡查。",
    ),
    Kind(
        "消防安全宣传与楼道清障",
        "楼道堆物挡住消防通道",
        "几栋楼的楼道里堆了旧家具和纸箱，堵住了消防通道，建议组织一次集中清理。",
        C.SAFETY,
        "组织居民志愿者集中清理楼道堆物，开展消防安全讲座和灭火器使用演练，"
        "为高龄独居老人家庭配置烟感报警器。",
        "全体居民",
        (600, 1800),
        (5000, 12000),
        (
            ("services", "楼道堆物清运", 4, "上海汇枫物业服务有限公司"),
            ("small_equipment", "独立式烟感报警器", 4, "上海安邦消防器材有限公司"),
            ("publicity", "消防宣传资料", 1, "上海申美印务有限公司"),
        ),
        "清运楼道堆物约8吨，安装烟感报警器90个，演练参与居民150人。",
        "消防通道全部畅通，居民自查堆物形成习惯。",
    ),
    Kind(
        "{compound}休闲座椅增设",
        "小花园增设休息长椅",
        "小花园里只有两张长椅，老人散步累了只能站着，建议沿步道再增设四到六张。",
        C.FACILITIES,
        "沿{compound}步道增设防腐木休闲座椅，位置由居民现场踏勘投票确定。",
        "{compound}居民，特别是老人",
        (300, 800),
        (4000, 10000),
        (
            ("materials", "防腐木户外座椅", 7, "上海绿邻园艺工程有限公司"),
            ("repairs", "座椅基础及安装", 3, "上海安居建筑装饰工程有限公司"),
        ),
        "增设座椅8张，位置由居民投票确定。",
        "老人散步有了歇脚处，座椅由楼组志愿者定期擦拭检查。",
    ),
    Kind(
        "青少年四点半课堂",
        "放学后孩子没地方去",
        "孩子下午四点半放学，家长下班还早，希望社区有地方让孩子写作业。",
        C.ELDERLY_CHILDREN,
        "在活动室开设四点半课堂，由退休教师和大学生志愿者辅导作业，开展阅读和科学小实验活动。",
        "辖区小学生",
        (25, 50),
        (4000, 10000),
        (
            ("transport", "大学生志愿者交通补贴", 3, "上海青苗青少年发展服务中心"),
            ("materials", "学习及实验用品", 3, "上海文华办公用品有限公司"),
            ("insurance", "学生意外险", 1, "中国平安财产保险股份有限公司上海分公司"),
        ),
        "课堂全年开放160天，服务学生约4000人次。",
        "家长接送压力减轻，退休教师志愿者团队稳定在10人。",
    ),
    Kind(
        "社区书画班",
        "老人想学书法国画",
        "不少退休居民喜欢书法国画，希望请老师来上课，也能交流作品。",
        C.SERVICES,
        "开设书画班，每周一次课，邀请书画老师授课，年底举办作品展。",
        "辖区书画爱好者",
        (30, 60),
        (3000, 8000),
        (
            ("expert_fees", "书画老师课时费", 5, "徐汇区梧桐睦邻服务中心"),
            ("materials", "笔墨纸砚等用品", 3, "上海文华办公用品有限公司"),
            ("publicity", "作品展布展", 2, "上海申美印务有限公司"),
        ),
        "书画班开课40次，学员45人，年底展出作品80幅。",
        "学员自发组建书画社，为社区节庆书写春联。",
    ),
    Kind(
        "{compound}停车秩序自治管理",
        "车停得乱，消防通道被占",
        "夜里总有车停在消防通道上，消防车根本进不来，建议画线并加装提示牌。",
        C.PARKING,
        "对{compound}道路重新划线，设置消防通道警示标识，"
        "由业主代表和物业组成停车自治小组，制定停车管理规约。",
        "{compound}有车居民及全体住户",
        (200, 600),
        (6000, 15000),
        (
            ("repairs", "道路划线施工", 5, "上海安居建筑装饰工程有限公司"),
            ("materials", "警示标识及反光设施", 3, "上海安邦消防器材有限公司"),
            ("publicity", "停车规约印制", 1, "上海申美印务有限公司"),
        ),
        "完成道路划线约900米，设置警示标识24处。",
        "消防通道保持畅通，停车自治小组每晚巡查。",
    ),
    Kind(
        "共享工具屋",
        "家里修修补补缺工具",
        "家里偶尔要用电钻、梯子，买了又不常用，建议社区办个工具屋大家共享。",
        C.SERVICES,
        "设立共享工具屋，配置常用维修工具，由志愿者登记借还，每月开展一次便民维修服务。",
        "全体居民",
        (300, 900),
        (4000, 9000),
        (
            ("small_equipment", "工具柜及常用维修工具", 6, "上海百家五金建材商行"),
            ("materials", "维修耗材", 2, "上海百家五金建材商行"),
            ("publicity", "借用须知及宣传", 1, "上海申美印务有限公司"),
        ),
        "工具屋全年借出工具500余次，开展便民维修12次。",
        "工具屋由志愿者自主管理，借还记录完整。",
    ),
    Kind(
        "反诈宣传进楼组",
        "老人接到诈骗电话",
        "最近好几位老人接到冒充公检法的诈骗电话，希望多做做防诈骗宣传。",
        C.SAFETY,
        "编排反诈情景剧，进楼组开展宣传，印制反诈提示卡，组织居民志愿者入户提醒独居老人。",
        "全体居民，重点是老年人",
        (800, 2000),
        (3000, 8000),
        (
            ("services", "反诈情景剧排演", 4, "上海声悦文化传播有限公司"),
            ("publicity", "反诈提示卡及海报", 4, "上海申美印务有限公司"),
        ),
        "情景剧演出6场，发放提示卡2000张，入户提醒300户。",
        "辖区全年未发生老人被骗案件，居民防范意识增强。",
    ),
]
# The first committee's projects chosen by its participatory budget vote (linli.demo.meetings).
VOTED = ("楼道照明改造", "社区花园微更新", "非机动车棚扩建", "睦邻书屋图书添置")

REVIEW_OPINIONS = [
    "方案可行，居民参与度高，预算编制较细。",
    "需求真实，建议加强后续的长效管理。",
    "预算合理，建议施工单位三家比价并留存记录。",
    "受益面广，建议完工后组织居民参与验收。",
    "方案清楚，志愿者队伍稳定，可持续性较好。",
]
WEAK_OPINIONS = [
    "需求论证不足，预算与方案对应不清。",
    "居民参与环节薄弱，建议先充分议事再申报。",
    "可持续性不足，项目结束后无人维护。",
]
EVAL_OPINIONS = [
    "目标基本达成，账目公开及时。",
    "居民参与实施情况较好，成效明显。",
    "资金使用规范，建议总结经验推广。",
]
SURVEY_COMMENTS = ["很满意，谢谢居委会！", "效果不错", "希望明年继续做", "", "", "还可以更好"]
OBJECTIONS = [
    (
        "公示的预算里材料单价偏高，希望说明采购方式。",
        "采购按三家比价确定供应商，比价结果随账目一并公开。",
    ),
    (
        "施工时间请避开午休时段。",
        "已与施工单位约定，施工时间为工作日上午9点至11点半、下午2点至5点。",
    ),
    (
        "希望把我们楼也纳入这次的范围。",
        "本期按居民议事会确定的范围实施，您楼栋的需求已记录，纳入下期议事。",
    ),
]
RETURN_NOTES = [
    "预算明细不够清楚，请补充单价和数量后再提交。",
    "请补充居民议事记录和受益人数的依据。",
]
CHECK_REJECTS = ["与已立项的物业维修项目重复，不予申报。", "属于物业服务合同范围，应由物业负责。"]
REVIEW_REJECTS = [
    "评审平均分未达合格线，需求论证和可持续性不足。",
    "评审平均分未达合格线，预算与方案对应不清，建议完善后明年再申报。",
]
WITHDRAW_REASONS = [
    "经居民再次议事，决定并入明年的整体改造项目。",
    "物业已承诺自行解决，撤回申请。",
]
ACCEPT_FAILS = [
    "现场验收发现部分施工未完成，请整改后重新报验。",
    "验收资料不全，缺少居民签字的验收记录。",
]
EDIT_TEXT = "（已按居民议事会意见调整实施范围和进度安排。）"

# The states of the current year, with the variant: the first committee shows each.
TOUR = [
    ("draft", {}),
    ("draft", {"returned": True}),
    ("submitted", {}),
    ("checked", {"reviews": 0}),
    ("checked", {"reviews": 1}),
    ("checked", {"reviews": 2}),
    ("reviewed", {}),
    ("publicised", {}),
    ("publicised", {"objection": "open"}),
    ("publicised", {"objection": "answered"}),
    ("approved", {"payments": "paid"}),
    ("approved", {"payments": "awaiting"}),
    ("approved", {"payments": "overdue"}),
    ("completed", {}),
    ("accepted", {}),
    ("evaluated", {}),
    ("closed", {}),
    ("rejected_check", {}),
    ("rejected_review", {}),
    ("withdrawn", {}),
]
# Other committees' projects of the current year, by how far they have come.
CURRENT_WEIGHTS = {
    "closed": 22,
    "evaluated": 5,
    "accepted": 7,
    "completed": 8,
    "approved": 22,
    "publicised": 6,
    "reviewed": 4,
    "checked": 8,
    "submitted": 6,
    "draft": 5,
    "rejected_check": 3,
    "rejected_review": 2,
    "withdrawn": 2,
}
PAST_WEIGHTS = {"closed": 84, "rejected_check": 6, "rejected_review": 6, "withdrawn": 4}
FUNDED = {"closed", "evaluated", "accepted", "completed", "approved"}


def _pdf(text: str) -> bytes:
    """A tiny valid one-page PDF showing `text` (ASCII): the demo's scanned invoice."""
    stream = f"BT /F1 11 Tf 36 100 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 200] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def _aware(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@dataclass
class _Staff:
    applicant: User | None  # applies, submits, requests payments, reports completion
    checker: User | None  # the committee's check (never the applicant)
    cosigners: list[User]  # second signatures on payments (empty: the system pays)
    payer: User | None
    residents: list[User]


@dataclass
class _Plan:
    committee: Place
    staff: _Staff
    kind: Kind
    outcome: str  # a state, or rejected_check / rejected_review
    variant: dict
    budget: int
    compound: Place | None = None
    meeting: Meeting | None = None
    actions: list = field(default_factory=list)  # (when, name, kwargs)
    project: Project | None = None
    topic: Topic | None = None
    quality: float = 0.8


# Each step of the happy path with its gap after the previous step (days, low–high).
GAPS = {
    "topic": (0, 0),
    "schedule": (5, 14),
    "create": (3, 10),
    "edit": (1, 4),
    "submit": (1, 6),
    "return": (2, 5),
    "check": (2, 6),
    "reject_check": (2, 6),
    "withdraw": (3, 12),
    "review": (2, 8),
    "decide": (2, 5),
    "reject_review": (2, 5),
    "publicise": (1, 3),
    "object": (1, 4),
    "answer": (1, 2),
    "approve": (8, 10),  # after the notice's window (publicity days + 1), kept when compressing
    "pay": (5, 20),
    "cosign": (0, 2),
    "disclose": (4, 14),
    "complete": (3, 10),
    "accept_fail": (5, 12),
    "accept": (5, 12),
    "survey": (1, 6),
    "eval_review": (2, 6),
    "evaluate": (3, 8),
    "close": (3, 8),
    "topic_done": (0, 2),
    "overdue": (35, 45),  # the last payment's 30 days to publish have passed
}
FIXED = {"approve", "topic", "overdue"}


class _Year:
    def __init__(self, *, year: int, world: World, users: dict, rng: random.Random):
        self.year, self.world, self.users, self.rng = year, world, users, rng
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.current = year == self.today.year
        self.started = self.now  # records stamped after this are the ones to backdate
        self.profile = profile_for(street=world.street, year=year)
        self.counts: Counter = Counter()
        self.invoice_serial = rng.randint(10_000_000, 60_000_000)
        self.homes: dict[User, str] = {}  # residents with accounts: their home's path

    # --- who acts ----------------------------------------------------------------------------

    def staff(self, index: int, committee: Place) -> _Staff:
        from linli.demo.topics import _moderator

        users = self.users
        homes: dict[User, str] = {}
        for assignment in (
            RoleAssignment.objects.filter(
                role=Role.RESIDENT, place__path__startswith=committee.path, user__is_active=True
            )
            .select_related("user", "place")
            .order_by("user_id", "pk")
        ):
            homes.setdefault(assignment.user, assignment.place.path)
        residents = list(homes)
        self.homes.update(homes)
        if index == 0:
            worker = users["worker"]
            leads = [users[k] for k in ("director", "secretary") if k in users]
            return _Staff(worker, leads[0], leads, worker, residents)
        applicant = _moderator(committee, users, self.now)
        leads = [
            a.user
            for a in RoleAssignment.objects.filter(
                place=committee,
                role__in=(Role.COMMITTEE_DIRECTOR, Role.COMMITTEE_SECRETARY),
                user__is_active=True,
            )
            .exclude(user=applicant)
            .select_related("user")
            .order_by("pk")
        ]
        if leads:
            return _Staff(applicant, leads[0], leads, applicant, residents)
        return _Staff(applicant, None, [], None, residents)

    # --- planning ----------------------------------------------------------------------------

    def plans(self) -> list[_Plan]:
        rng = self.rng
        index_of_year = self.year - (self.today.year - 2)
        compounds = {}
        for compound in Place.objects.filter(
            kind=PlaceKind.COMPOUND, parent__in=self.world.committees
        ).order_by("path"):
            compounds.setdefault(compound.parent_id, []).append(compound)
        plans = []
        for index, committee in enumerate(self.world.committees):
            staff = self.staff(index, committee)
            if self.current:
                if index == 0:
                    wanted = list(TOUR)
                else:
                    n = rng.randint(*CURRENT_OTHERS)
                    wanted = [(self._weighted(CURRENT_WEIGHTS), {}) for _ in range(n)]
            else:
                first, others = PAST_PER_COMMITTEE[min(index_of_year, 1)]
                n = first if index == 0 else rng.randint(*others)
                wanted = [(self._weighted(PAST_WEIGHTS), {}) for _ in range(n)]
                if index in (1, 2) or (index == 0 and len(self.world.committees) < 3):
                    wanted[0] = ("closed", {"accept_fail": True})
                if index == 0:
                    wanted[1] = ("closed", {"returned": True})  # sent back once at the check
            kinds = KINDS[:]
            rng.shuffle(kinds)
            if self.current and index == 0:
                # The early-stage projects are the ones residents just voted for.
                voted = [k for k in kinds if any(v[:4] in k.title for v in VOTED)]
                kinds = voted + [k for k in kinds if k not in voted]
            meetings = self._held_meetings(committee)
            committee_plans = []
            for number, (outcome, variant) in enumerate(wanted):
                kind = kinds[number % len(kinds)]
                compound = None
                if "{compound}" in kind.title and compounds.get(committee.pk):
                    compound = rng.choice(compounds[committee.pk])
                elif "{compound}" in kind.title:
                    kind = next(k for k in kinds if "{compound}" not in k.title)
                variant = dict(variant)
                if not self.current or outcome in FUNDED:
                    variant.setdefault("returned", rng.random() < 0.12)
                    if outcome == "closed":
                        variant.setdefault("objection", "answered" if rng.random() < 0.1 else "")
                    variant.setdefault("edited", rng.random() < 0.2)
                low, high = kind.budget
                # A higher cap (the third year's) lets the larger kinds grow with it.
                cap = int(self.profile.per_project_cap)
                high = min(high * cap // 20000 if high >= 15000 else high, cap)
                budget = rng.randint(max(low, MIN_BUDGET) // 100, max(high, MIN_BUDGET) // 100)
                plan = _Plan(
                    committee=committee,
                    staff=staff,
                    kind=kind,
                    outcome=outcome,
                    variant=variant,
                    budget=budget * 100,
                    compound=compound,
                    quality=rng.uniform(0.68, 0.9),
                )
                if outcome == "rejected_review":
                    plan.quality = rng.uniform(0.36, 0.52)
                if meetings and self.current and number < 8:
                    plan.meeting = meetings[-1]
                committee_plans.append(plan)
            self._fit_money(committee, committee_plans)
            plans += committee_plans
        for plan in plans:
            plan.actions = self._timeline(plan)
            if plan.meeting is not None and self._when(plan, "create") < plan.meeting.ends_at:
                plan.meeting = None  # decided before the meeting: a topic raised it instead
                plan.actions = self._timeline(plan)
        return plans

    def _weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _held_meetings(self, committee: Place) -> list[Meeting]:
        return list(
            Meeting.objects.filter(
                place=committee,
                state__in=(MeetingState.CLOSED, MeetingState.MINUTES_PUBLISHED),
                starts_at__year=self.year,
            ).order_by("starts_at", "pk")
        )

    def _available(self, committee: Place) -> Decimal:
        account = Account.objects.filter(
            fund__place=committee, fund__kind=FundKind.SELF_GOVERNANCE, kind=AccountKind.AVAILABLE
        ).first()
        if account is None:
            return Decimal(0)
        return Decimal(balances_fen([account.pk]).get(account.pk, 0)) / 100

    def _fit_money(self, committee: Place, plans: list[_Plan]) -> None:
        """Budgets of the projects that will be approved fit the year's money (at most 90% of
        it is committed); the rest keep theirs (they never commit)."""
        funded = [p for p in plans if p.outcome in FUNDED]
        limit = int(self._available(committee) * MONEY_USE)
        total = sum(p.budget for p in funded)
        if total > limit and funded:
            scale = limit / total
            for plan in funded:
                plan.budget = max(MIN_BUDGET, int(plan.budget * scale) // 100 * 100)
        for plan in sorted(funded, key=lambda p: -p.budget):  # what rounding left over
            excess = sum(p.budget for p in funded) - limit
            if excess <= 0:
                break
            plan.budget -= min(-(-excess // 100) * 100, plan.budget - MIN_BUDGET)
        while funded and sum(p.budget for p in funded) > limit:
            plan = funded.pop()  # not enough money even at the smallest budgets: not passed
            plan.outcome, plan.quality = "rejected_review", self.rng.uniform(0.36, 0.52)

    # --- the timeline ------------------------------------------------------------------------

    def _steps(self, plan: _Plan) -> list[tuple[str, dict]]:
        """The actions of a plan, in order (without dates)."""
        v, outcome, rng = plan.variant, plan.outcome, self.rng
        steps: list[tuple[str, dict]] = []
        if plan.meeting is None:
            steps += [("topic", {}), ("schedule", {})]
        steps.append(("create", {}))
        if outcome == "draft":
            if v.get("returned"):
                steps += [("submit", {}), ("return", {})]
            return steps
        if v.get("edited"):
            steps.append(("edit", {}))
        steps.append(("submit", {}))
        if v.get("returned"):
            steps += [("return", {}), ("edit", {}), ("submit", {})]
        if outcome == "submitted":
            return steps
        if outcome == "withdrawn":
            if rng.random() < 0.5:
                steps.append(("check", {}))
            return [*steps, ("withdraw", {}), *self._topic_end(plan)]
        if outcome == "rejected_check":
            return [*steps, ("reject_check", {}), *self._topic_end(plan)]
        steps.append(("check", {}))
        reviewers = list(REVIEWERS)
        rng.shuffle(reviewers)
        count = v.get("reviews", 3) if outcome == "checked" else 3
        steps += [("review", {"reviewer": key}) for key in reviewers[:count]]
        if outcome == "checked":
            return steps
        if outcome == "rejected_review":
            return [*steps, ("reject_review", {}), *self._topic_end(plan)]
        steps.append(("decide", {}))
        if outcome == "reviewed":
            return steps
        steps.append(("publicise", {}))
        objection = v.get("objection")
        if objection:
            steps.append(("object", {}))
            if objection == "answered":
                steps.append(("answer", {}))
        if outcome == "publicised":
            return steps
        steps.append(("approve", {}))
        steps += self._payments(plan)
        if outcome == "approved":
            return steps
        if v.get("accept_fail"):
            steps += [("complete", {}), ("accept_fail", {}), ("complete", {})]
        else:
            steps.append(("complete", {}))
        if outcome == "completed":
            return steps
        steps.append(("accept", {}))
        residents = [r for r in plan.staff.residents if r != self.users.get("resident")]
        answers = rng.sample(residents, min(len(residents), rng.randint(2, 5)))
        steps += [("survey", {"user": user}) for user in answers[: len(answers) // 2 + 1]]
        if outcome == "accepted":
            return steps
        reviewers = list(REVIEWERS)
        rng.shuffle(reviewers)
        steps += [("eval_review", {"reviewer": key}) for key in reviewers]
        steps += [("survey", {"user": user}) for user in answers[len(answers) // 2 + 1 :]]
        steps.append(("evaluate", {}))
        if outcome == "evaluated":
            return steps
        return [*steps, ("close", {}), *self._topic_end(plan)]

    def _topic_end(self, plan: _Plan) -> list[tuple[str, dict]]:
        return [("topic_done", {})] if plan.meeting is None else []

    def _payments(self, plan: _Plan) -> list[tuple[str, dict]]:
        """Payments against the lines: most of each line is spent (85–100%), each payment
        co-signed where the committee has a second signatory, then published on the board. A
        project under way has paid part of its lines; its variants leave the last payment
        awaiting the second signature, or the payments unpublished past their deadline."""
        rng = self.rng
        lines = _split(plan.budget, plan.kind.lines)
        cosign = bool(plan.staff.cosigners)
        mode = plan.variant.get("payments", "paid")
        partial = plan.outcome == "approved"
        chosen = list(enumerate(lines))
        if partial:
            chosen = chosen[: max(2 if mode == "awaiting" else 1, len(chosen) // 2)]
        pays = []
        for position, amount in chosen:
            spend = Decimal(amount) * Decimal(str(round(rng.uniform(0.85, 1.0), 4)))
            pays.append(("pay", {"line": position + 1, "amount": spend.quantize(Decimal("0.01"))}))
        awaiting = partial and mode == "awaiting" and cosign
        steps: list[tuple[str, dict]] = []
        for number, pay in enumerate(pays):
            if awaiting and number == len(pays) - 1:
                if steps:
                    steps.append(("disclose", {}))
                steps.append(pay)  # its second signature is still missing
                continue
            steps.append(pay)
            if cosign:
                steps.append(("cosign", {}))
        if partial and mode == "overdue":
            steps.append(("overdue", {}))  # nothing published since: the deadline has passed
        elif not awaiting:
            steps.append(("disclose", {}))
        return steps

    def _timeline(self, plan: _Plan) -> list[tuple[dt.datetime, str, dict]]:
        rng = self.rng
        steps = self._steps(plan)
        offsets, day = [], 0
        for name, _kw in steps:
            low, high = GAPS.get(name, (1, 5))
            day += rng.randint(low, high) if offsets else 0
            offsets.append(day)
        year = self.year
        lo = dt.date(year, 2, 10)  # the topic; creation after the allocations
        create_index = next(i for i, (name, _kw) in enumerate(steps) if name == "create")
        if self.current:
            slack = rng.randint(0, 20) if plan.outcome in FUNDED else rng.randint(0, 10)
            if plan.outcome == "publicised":
                # The notice's window is still open: published in the last few days.
                names = [name for name, _kw in steps]
                after = offsets[-1] - offsets[names.index("publicise")]
                slack = max(0, rng.randint(0, 4) - after)
            hi = self.today - dt.timedelta(days=slack)
        else:
            hi = dt.date(year, *LAST_CLOSE)
        span = offsets[-1]
        room = (hi - lo).days
        start_min = max(0, 28 - offsets[create_index])  # created from about 10 March
        if span + start_min > room:
            # Compress the compressible gaps to fit the year.
            fixed = sum(
                offsets[i] - offsets[i - 1] for i in range(1, len(steps)) if steps[i][0] in FIXED
            )
            factor = max(0.0, (room - start_min - fixed) / max(1, span - fixed))
            new, day = [0], 0
            for i in range(1, len(steps)):
                gap = offsets[i] - offsets[i - 1]
                day += gap if steps[i][0] in FIXED else int(gap * factor)
                new.append(day)
            offsets, span = new, new[-1]
        if self.current:
            start = hi - dt.timedelta(days=span)
        else:
            latest = room - span
            start = lo + dt.timedelta(days=rng.randint(min(start_min, latest), max(latest, 0)))
        actions = []
        previous = None
        for (name, kwargs), offset in zip(steps, offsets, strict=True):
            when = _aware(start + dt.timedelta(days=offset), rng.randint(9, 16), rng.randint(0, 59))
            if previous is not None and when <= previous:
                when = previous + dt.timedelta(minutes=rng.randint(5, 50))
            limit = self.now - dt.timedelta(minutes=30)
            if when > limit:
                when = limit if previous is None or previous < limit else previous
            actions.append((when, name, kwargs))
            previous = when
        return actions

    # --- running -----------------------------------------------------------------------------

    def run(self) -> Counter:
        plans = self.plans()
        queue = []
        for number, plan in enumerate(plans):
            queue.append((plan.actions[0][0], number, 0))
        heapq.heapify(queue)
        while queue:
            when, number, position = heapq.heappop(queue)
            plan = plans[number]
            _when, name, kwargs = plan.actions[position]
            with transaction.atomic():
                getattr(self, f"_do_{name}")(plan, when, **kwargs)
            if position + 1 < len(plan.actions):
                heapq.heappush(queue, (plan.actions[position + 1][0], number, position + 1))
        for plan in plans:
            project = plan.project
            if project is None:
                continue
            Project.objects.filter(pk=project.pk).update(
                created_at=plan.actions[self._index(plan, "create")][0],
                updated_at=plan.actions[-1][0],
            )
            project.refresh_from_db()
            self.counts[f"{self.year}.{project.state}"] += 1
            self.counts["projects"] += 1
            if project.commitment_id:
                self.counts["committed"] += project.budget
        paid = Payment.objects.filter(project__year=self.year, state=PaymentState.PAID)
        self.counts["payments"] += paid.count()
        self.counts["paid"] += Decimal(paid.aggregate(total=Sum("amount"))["total"] or 0).quantize(
            Decimal("0.01")
        )
        self.counts["awaiting_signature"] += Payment.objects.filter(
            project__year=self.year, state=PaymentState.REQUESTED
        ).count()
        if self.current:
            try:
                with transaction.atomic():
                    services.disclosures_remind(today=self.today)
            except NoReverseMatch:  # the project pages are not there yet: the warning waits
                pass
        return self.counts

    @staticmethod
    def _index(plan: _Plan, name: str) -> int:
        return next(i for i, (_w, n, _k) in enumerate(plan.actions) if n == name)

    def _stamp(self, plan: _Plan, when: dt.datetime) -> None:
        ProjectStep.objects.filter(project=plan.project, at__gte=self.started).update(at=when)

    def _notifications(self, mark: int | None, when: dt.datetime) -> None:
        Notification.objects.filter(pk__gt=mark or 0).update(
            created_at=when, read_at=None if self.current else when
        )

    @staticmethod
    def _mark() -> int | None:
        return Notification.objects.aggregate(top=Max("pk"))["top"]

    def _backdate_notice(self, notice_id, when: dt.datetime) -> None:
        Notice.objects.filter(pk=notice_id).update(
            published_at=when,
            created_at=when,
            window_until=notices.window_end(when, self.profile.publicity_days),
        )

    # --- the steps ---------------------------------------------------------------------------

    def _do_topic(self, plan: _Plan, when: dt.datetime) -> None:
        rng, staff = self.rng, plan.staff
        others = [r for r in staff.residents if r != self.users.get("resident")]
        if plan.compound is not None:
            # Raised and backed by people of the compound it serves, where it has any.
            local = [r for r in others if self.homes[r].startswith(plan.compound.path)]
            others = local or others
        author = rng.choice(others) if others else staff.applicant
        if author is None:
            return
        mark = self._mark()
        plan.topic = deliberation.topic_raise(
            actor=author,
            committee=plan.committee,
            title=plan.kind.topic,
            body=plan.kind.topic_body,
            category=plan.kind.category,
            compound=plan.compound,
            now=when,
        )
        backers = [r for r in others if r != author]
        for number, user in enumerate(rng.sample(backers, min(len(backers), rng.randint(0, 2)))):
            try:
                deliberation.topic_support(
                    actor=user, topic=plan.topic, now=when + dt.timedelta(hours=number + 1)
                )
            except (ValidationError, PermissionDenied):  # its household backed it already
                continue
        self._notifications(mark, when)

    def _do_schedule(self, plan: _Plan, when: dt.datetime) -> None:
        if plan.topic is None:
            return
        mark = self._mark()
        local = timezone.localtime(when)
        plan.topic = deliberation.topic_schedule(
            actor=plan.staff.applicant or self.users["worker"],
            topic=plan.topic,
            meeting_label=f"{local.year}年{local.month}月居民议事会",
            now=when,
        )
        self._notifications(mark, when)

    def _do_topic_done(self, plan: _Plan, when: dt.datetime) -> None:
        if plan.topic is None:
            return
        mark = self._mark()
        project = plan.project
        if project.state == S.CLOSED:
            outcome = f"已立项实施并结项：{project.outcome}"
        else:
            outcome = "经议事和申报，本议题暂不通过自治金项目实施。"
        deliberation.topic_done(
            actor=plan.staff.applicant or self.users["worker"],
            topic=plan.topic,
            outcome=outcome[:500],
            now=when,
        )
        self._notifications(mark, when)

    def _fields(self, plan: _Plan) -> dict:
        kind, rng = plan.kind, self.rng
        name = plan.compound.name if plan.compound else ""
        title = kind.title.format(compound=name)
        approve = self._when(plan, "approve")
        create = self._when(plan, "create").date()
        if approve is not None:
            starts = approve.date() + dt.timedelta(days=rng.randint(1, 4))
        else:
            starts = create + dt.timedelta(days=rng.randint(35, 50))
        end_of_year = dt.date(self.year, 12, 31)
        starts = min(starts, end_of_year - dt.timedelta(days=10))
        finish = self._when(plan, "complete")
        if finish is not None:
            ends = finish.date() - dt.timedelta(days=rng.randint(0, 2))
        else:
            ends = starts + dt.timedelta(days=rng.randint(60, 150))
        ends = max(min(ends, end_of_year), starts)
        pays = [w.date() for w, n, _k in plan.actions if n == "pay"]
        if pays:
            starts = min(starts, min(pays))
            ends = min(max(ends, max(pays)), end_of_year)
        low, high = kind.count
        return {
            "title": title,
            "plan": kind.plan.format(compound=name or "小区"),
            "beneficiaries": kind.beneficiaries.format(compound=name or "小区"),
            "beneficiary_count": rng.randint(low, high),
            "starts_on": starts,
            "ends_on": max(ends, starts),
            "compound": plan.compound,
        }

    @staticmethod
    def _when(plan: _Plan, name: str) -> dt.datetime | None:
        for when, n, _k in plan.actions:
            if n == name:
                return when
        return None

    def _do_create(self, plan: _Plan, when: dt.datetime) -> None:
        lines = _split(plan.budget, plan.kind.lines)
        plan.project = services.project_create(
            actor=plan.staff.applicant,
            place=plan.committee,
            lines=[
                {"category": category, "item": item, "amount": Decimal(amount)}
                for (category, item, _w, _payee), amount in zip(plan.kind.lines, lines, strict=True)
            ],
            topic=plan.topic,
            meeting=plan.meeting,
            year=self.year,
            **self._fields(plan),
        )
        self._stamp(plan, when)

    def _do_edit(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_update(
            actor=plan.staff.applicant,
            project=plan.project,
            plan=f"{plan.project.plan}{EDIT_TEXT}",
        )
        self._stamp(plan, when)

    def _do_submit(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_submit(
            actor=plan.staff.applicant, project=plan.project, on=when.date()
        )
        self._stamp(plan, when)

    def _checker(self, plan: _Plan) -> User | None:
        return plan.staff.checker

    def _do_return(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_check(
            actor=self._checker(plan),
            project=plan.project,
            decision="return",
            note=self.rng.choice(RETURN_NOTES),
        )
        self._stamp(plan, when)

    def _do_check(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_check(
            actor=self._checker(plan), project=plan.project, decision="pass", note="同意申报。"
        )
        self._stamp(plan, when)

    def _do_reject_check(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_check(
            actor=self._checker(plan),
            project=plan.project,
            decision="reject",
            note=self.rng.choice(CHECK_REJECTS),
        )
        self._stamp(plan, when)

    def _do_withdraw(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_withdraw(
            actor=plan.staff.applicant,
            project=plan.project,
            reason=self.rng.choice(WITHDRAW_REASONS),
        )
        self._stamp(plan, when)

    def _scores(self, criteria, quality: float) -> dict:
        rng = self.rng
        return {
            c.code: max(0, min(c.points, round(c.points * (quality + rng.uniform(-0.08, 0.08)))))
            for c in criteria
        }

    def _do_review(self, plan: _Plan, when: dt.datetime, reviewer: str) -> None:
        weak = plan.quality < 0.6
        review = services.review_submit(
            actor=self.users[reviewer],
            project=plan.project,
            stage=Stage.REVIEW,
            scores=self._scores(REVIEW_CRITERIA, plan.quality),
            opinion=self.rng.choice(WEAK_OPINIONS if weak else REVIEW_OPINIONS),
        )
        Review.objects.filter(pk=review.pk).update(submitted_at=when)
        self._stamp(plan, when)

    def _do_eval_review(self, plan: _Plan, when: dt.datetime, reviewer: str) -> None:
        review = services.review_submit(
            actor=self.users[reviewer],
            project=plan.project,
            stage=Stage.EVALUATION,
            scores=self._scores(EVALUATION_CRITERIA, plan.quality + 0.02),
            opinion=self.rng.choice(EVAL_OPINIONS),
        )
        Review.objects.filter(pk=review.pk).update(submitted_at=when)
        self._stamp(plan, when)

    def _do_decide(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_review_decide(
            actor=self.users["selfgov"], project=plan.project, decision="pass", note="评审通过。"
        )
        self._stamp(plan, when)

    def _do_reject_review(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_review_decide(
            actor=self.users["selfgov"],
            project=plan.project,
            decision="reject",
            note=self.rng.choice(REVIEW_REJECTS),
        )
        self._stamp(plan, when)

    def _do_publicise(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_publicise(actor=self.users["selfgov"], project=plan.project)
        self._backdate_notice(plan.project.notice_id, when)
        self._stamp(plan, when)

    def _objector(self, plan: _Plan) -> User | None:
        others = [r for r in plan.staff.residents if r != self.users.get("resident")]
        return self.rng.choice(others) if others else self.users.get("resident")

    def _do_object(self, plan: _Plan, when: dt.datetime) -> None:
        author = self._objector(plan)
        notice = Notice.objects.get(pk=plan.project.notice_id)
        if author is None or not notices.is_community_member(author, notice):
            return
        mark = self._mark()
        # Filed while the window is open (now); dated when the resident filed it.
        window = Notice.objects.filter(pk=notice.pk).values_list("published_at", "window_until")
        (published, until) = window.get()
        Notice.objects.filter(pk=notice.pk).update(
            published_at=min(published, self.now), window_until=max(until, self.now + _DAY)
        )
        text, answer = self.rng.choice(OBJECTIONS)
        objection = notices.objection_file(actor=author, notice=notice, text=text)
        Notice.objects.filter(pk=notice.pk).update(published_at=published, window_until=until)
        Objection.objects.filter(pk=objection.pk).update(created_at=when)
        plan.variant["objection_row"] = (objection, answer)
        self._notifications(mark, when)

    def _do_answer(self, plan: _Plan, when: dt.datetime) -> None:
        row = plan.variant.get("objection_row")
        if row is None:
            return
        objection, answer = row
        mark = self._mark()
        notices.objection_answer(actor=self.users["selfgov"], objection=objection, answer=answer)
        Objection.objects.filter(pk=objection.pk).update(answered_at=when)
        self._notifications(mark, when)

    def _do_approve(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_approve(
            actor=self.users["selfgov"], project=plan.project, on=when.date()
        )
        self._stamp(plan, when)

    def _do_pay(self, plan: _Plan, when: dt.datetime, line: int, amount: Decimal) -> None:
        project = plan.project
        budget_line = project.lines.get(position=line)
        payee = plan.kind.lines[line - 1][3]
        self.invoice_serial += self.rng.randint(1, 9000)
        number = f"{self.invoice_serial:08d}"
        on = when.date()
        invoice = SimpleUploadedFile(
            f"invoice-{number}.pdf",
            _pdf(f"Invoice No.{number}  CNY {amount}  {on.isoformat()}"),
            content_type="application/pdf",
        )
        payment = services.payment_request(
            actor=plan.staff.payer,
            project=project,
            line=budget_line,
            amount=amount,
            payee=payee,
            memo=f"{budget_line.item}（第{project.payments.count() + 1}笔）"[:200],
            invoice=invoice,
            invoice_number=number,
            on=on,
        )
        plan.variant["last_payment"] = payment
        Payment.objects.filter(pk=payment.pk).update(
            requested_at=when, paid_at=when if payment.state == PaymentState.PAID else None
        )
        PaymentApproval.objects.filter(payment=payment).update(at=when)
        self._stamp(plan, when)

    def _do_cosign(self, plan: _Plan, when: dt.datetime) -> None:
        payment = plan.variant["last_payment"]
        signer = self.rng.choice(plan.staff.cosigners)
        services.payment_approve(actor=signer, payment=payment)
        Payment.objects.filter(pk=payment.pk).update(paid_at=when)
        PaymentApproval.objects.filter(payment=payment, user=signer).update(at=when)
        self._stamp(plan, when)

    def _do_overdue(self, plan: _Plan, when: dt.datetime) -> None:
        """Nothing happens: the payments stay unpublished past their deadline."""

    def _do_disclose(self, plan: _Plan, when: dt.datetime) -> None:
        pending = plan.project.payments.filter(state=PaymentState.PAID, disclosed_in=None)
        if not pending.exists():
            return
        project = services.project_disclose(actor=plan.staff.applicant, project=plan.project)
        plan.project = project
        notice = Notice.objects.filter(source=f"project:{project.pk}").order_by("-pk").first()
        self._backdate_notice(notice.pk, when)
        self._stamp(plan, when)

    def _do_complete(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_complete(
            actor=plan.staff.applicant, project=plan.project, report=plan.kind.report
        )
        self._stamp(plan, when)

    def _do_accept_fail(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_accept(
            actor=self.users["selfgov"],
            project=plan.project,
            passed=False,
            note=self.rng.choice(ACCEPT_FAILS),
        )
        self._stamp(plan, when)

    def _do_accept(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_accept(
            actor=self.users["selfgov"], project=plan.project, passed=True, note="现场验收合格。"
        )
        self._stamp(plan, when)

    def _do_survey(self, plan: _Plan, when: dt.datetime, user: User) -> None:
        score = self.rng.choices([5, 4, 3, 2], weights=[50, 35, 10, 5])[0]
        answer = services.survey_answer(
            actor=user, project=plan.project, score=score, comment=self.rng.choice(SURVEY_COMMENTS)
        )
        SurveyResponse.objects.filter(pk=answer.pk).update(at=when)

    def _do_evaluate(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_evaluate(
            actor=self.users["selfgov"], project=plan.project, note="综合评估良好。"
        )
        self._stamp(plan, when)

    def _do_close(self, plan: _Plan, when: dt.datetime) -> None:
        plan.project = services.project_close(
            actor=self.users["selfgov"],
            project=plan.project,
            outcome=plan.kind.outcome,
            on=when.date(),
        )
        notice = Notice.objects.filter(source=f"project:{plan.project.pk}").order_by("-pk").first()
        self._backdate_notice(notice.pk, when)
        self._stamp(plan, when)


_DAY = dt.timedelta(days=1)


def _split(budget: int, lines) -> list[int]:
    """The budget over the lines by their weights, in tens of yuan; the first line takes the
    rounding."""
    weights = [line[2] for line in lines]
    total = sum(weights)
    amounts = [max(10, budget * weight // total // 10 * 10) for weight in weights]
    amounts[0] += budget - sum(amounts)
    return amounts


def projects_hook(*, year: int, world: World, users: dict | None, rng: random.Random) -> Counter:
    """One year of projects (see the module docstring); returns the counts: projects by
    "year.state", "projects", "payments", "awaiting_signature", "committed", "paid"."""
    if not users or not all(key in users for key in (*REVIEWERS, "selfgov", "worker")):
        return Counter()
    return _Year(year=year, world=world, users=users, rng=rng).run()
