"""The import workbooks' sheets and columns: one description shared by the parser and the templates.

A column marked ``required`` must be present in the header row and filled in every data row.
Other columns may be left out of the sheet altogether. Headers are matched after trimming
spaces and a trailing ``*``, with half-width and full-width parentheses treated alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from contest.domain import limits
from contest.domain.limits import TextField
from contest.domain.text import N_


@dataclass(frozen=True)
class Column:
    header: str
    required: bool = False
    note: str = ""
    limit: TextField = limits.CELL  # the declared maximum of the field the column fills


@dataclass(frozen=True)
class SheetSpec:
    name: str
    columns: tuple[Column, ...]
    note: str = ""
    required: bool = False  # the sheet itself must be present

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)


# Column headers (used as keys by the parser and the service).
SKILL_CODE = N_("职业(工种)代码")
ENTRY_NO = N_("参赛号")
NAME = N_("姓名")
ID_NUMBER = N_("证件号码")
GENDER = N_("性别")
PHONE = N_("手机")

UNITS = SheetSpec(
    N_("单位"),
    (
        Column(N_("单位名称"), True, "选送单位或工作单位的全称;已在系统中的单位按名称更新", limits.UNIT_NAME),
        Column(N_("单位代码"), note="可选", limit=limits.UNIT_CODE),
        Column(N_("所在地区"), note="可选,如:威海市环翠区", limit=limits.REGION),
        Column(N_("联系人"), note="可选", limit=limits.CONTACT),
    ),
    "本赛事用到、但系统中还没有的单位。系统中已有的单位可以不列。",
)

ITEMS = SheetSpec(
    N_("赛项"),
    (
        Column(SKILL_CODE, True, "国家职业分类大典的职业(工种)代码;同一赛事内不能重复,是认定“同一项目”的依据", limits.SKILL_CODE),
        Column(N_("职业(工种)名称"), True, "如:焊工", limits.SKILL_NAME),
        Column(N_("赛项名称"), note="留空则与职业(工种)名称相同", limit=limits.ITEM_NAME),
        Column(N_("类型"), True, "个人 或 团队"),
        Column(N_("团队人数"), note="团队赛项必填,2 或 3;个人赛项留空"),
        Column(N_("理论权重"), note="各权重之和应为 100;不设理论考试则留空"),
        Column(N_("实操权重"), note="如 70"),
        Column(N_("答辩权重"), note="不设答辩则留空"),
        Column(N_("排名不并列"), note="是 或 否,留空为 否"),
        Column(N_("优胜奖比例"), note="如 0.5 或 50%,留空为 0.5(前一半)"),
        Column(N_("组别"), note="可选,如:职工组、学生组、院校组;奖励政策按组别发放时须填写", limit=limits.ITEM_GROUP),
    ),
    "本赛事的赛项。系统中已有的赛项按职业(工种)代码更新;已开始评分的赛项不能再修改。"
    "填写了权重、但评分细则表中没有该赛项的评分项时,沿用系统中已有的评分项。",
)

CRITERIA = SheetSpec(
    N_("评分细则"),
    (
        Column(SKILL_CODE, True, "所属赛项", limits.SKILL_CODE),
        Column(N_("组成部分"), True, "理论、实操 或 答辩"),
        Column(N_("评分项编号"), True, "同一组成部分内不重复,如 A1", limits.CRITERION_CODE),
        Column(N_("评分项名称"), True, limit=limits.CRITERION_NAME),
        Column(N_("满分"), True, "同一组成部分的各评分项满分之和应为 100"),
        Column(N_("步长"), note="评分的最小单位,留空为 0.5"),
        Column(N_("类型"), True, "测量分 或 评价分"),
        Column(N_("裁判人数"), note="测量分为 1(可留空);评价分必填,至少 2"),
        Column(N_("汇总方式"), note="单人评分、平均分、去掉最高最低分后平均、中位数、世赛评价分;留空按类型和裁判人数自动选择"),
    ),
    "一个赛项在本表中有评分项时,该赛项的评分方案整体替换为本表所列内容(权重取自赛项表)。",
)

COMPETITORS = SheetSpec(
    N_("选手"),
    (
        Column(SKILL_CODE, True, "所参加的赛项", limits.SKILL_CODE),
        Column(ENTRY_NO, True, "同一赛项内唯一;团队的每名成员填写同一个参赛号", limits.ENTRY_NO),
        Column(N_("团队名称"), note="团队赛项可填", limit=limits.TEAM_NAME),
        Column(NAME, True, limit=limits.PERSON_NAME),
        Column(ID_NUMBER, True, "18 位居民身份证号码须通过校验;请将本列设为文本格式", limits.ID_NUMBER),
        Column(GENDER, note="男 或 女", limit=limits.GENDER),
        Column(N_("选送单位"), True, "须在单位表或系统中存在;同一团队的成员选送单位须相同", limits.UNIT_NAME),
        Column(N_("就业地区"), note="如:黑龙江省哈尔滨市(部分奖励政策要求在省内就业)", limit=limits.REGION),
        Column(N_("是否职工"), note="是 或 否"),
        Column(PHONE, note="可选", limit=limits.PHONE),
    ),
    "每行一名选手。参赛单元按(赛项,参赛号)更新,其成员替换为本表所列的人;系统中有、本表中没有的参赛单元保持不变。",
    required=True,
)

COACHES = SheetSpec(
    N_("教练"),
    (
        Column(SKILL_CODE, True, limit=limits.SKILL_CODE),
        Column(ENTRY_NO, True, "须是选手表中的参赛号", limits.ENTRY_NO),
        Column(NAME, True, limit=limits.PERSON_NAME),
        Column(ID_NUMBER, True, limit=limits.ID_NUMBER),
        Column(N_("所在单位"), note="可选;填写时须在单位表或系统中存在", limit=limits.UNIT_NAME),
        Column(N_("份额"), note="奖金分配份额,正整数(如 6 和 4 按 6:4 分配);同一参赛单元要么都填、要么都不填(平均分配)"),
        Column(N_("是否主教练"), note="是 或 否;每个参赛单元至多一名主教练"),
    ),
    "每行一名教练。导入时,选手表中每个参赛单元的教练替换为本表所列的教练;文件中没有教练表时,已有的教练保持不变。",
)

JUDGES = SheetSpec(
    N_("裁判"),
    (
        Column(NAME, True, limit=limits.PERSON_NAME),
        Column(ID_NUMBER, True, limit=limits.ID_NUMBER),
        Column(GENDER, note="男 或 女", limit=limits.GENDER),
        Column(N_("所在单位"), note="用于回避:裁判不给本单位的选手评分;须在系统中(或本文件单位表中)存在", limit=limits.UNIT_NAME),
        Column(PHONE, note="可选", limit=limits.PHONE),
        Column(N_("角色"), True, "裁判 或 裁判长"),
        Column(N_("执裁赛项"), note="职业(工种)代码,多个用 、 或 , 分隔", limit=limits.CODE_LIST),
        Column(N_("登录账号"), note="可选;填写时为该裁判创建登录账号(不设密码,之后通过登录链接登录)", limit=limits.USERNAME),
    ),
    "每行一名裁判。人员按证件号码更新;已分配的裁判保留原席位号,新分配的裁判按本表顺序编席位号。",
    required=True,
)

ROSTER_SHEETS: tuple[SheetSpec, ...] = (UNITS, ITEMS, CRITERIA, COMPETITORS, COACHES)
JUDGE_SHEETS: tuple[SheetSpec, ...] = (UNITS, JUDGES)

INSTRUCTIONS_SHEET = "说明"
EXAMPLE_PREFIX = "示例"
