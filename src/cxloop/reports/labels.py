"""The report's and the report mail's words in zh and en.

The report is rendered outside a web request (scheduled mails), so it cannot use the web
catalogs; its few words live here, English as the key.
"""

from __future__ import annotations

ZH: dict[str, str] = {
    "Customer experience report": "客户体验报告",
    "Filters": "筛选条件",
    "No filters: all feedback.": "无筛选：全部反馈。",
    "Generated": "生成时间",
    "Scores": "得分",
    "Metric": "指标",
    "Score": "得分",
    "Period": "期间",
    "Interval (95%)": "区间（95%）",
    "Change": "变化",
    "significant": "显著",
    "not significant": "不显著",
    "Open alerts": "未处理警报",
    "No open alerts.": "没有未处理的警报。",
    "Targets": "目标",
    "Journey": "旅程",
    "Topics": "话题",
    "Drivers": "驱动因素",
    "No rows.": "没有数据。",
    "rows shown": "行已显示",
    "of": "共",
    "No answers in this period: nothing to score yet.": "此期间没有答卷：暂无可计算的得分。",
    "Kind": "类型",
    "Subject": "对象",
    "Reason": "原因",
    "Since": "起始",
    "nps": "NPS 净推荐值",
    "csat": "CSAT 满意度",
    "ces": "CES 费力度",
    "The report is attached as a PDF.": "报告见附件（PDF）。",
    "Scheduled report": "定期报告",
}


def label(lang: str, text: str) -> str:
    """``text`` in ``lang`` (English: itself; a word without a translation: itself)."""
    return ZH.get(text, text) if lang == "zh" else text
