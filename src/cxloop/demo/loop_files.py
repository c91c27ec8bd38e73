"""The demo's loop configuration as the files a team would write: teams and alert rules.

The demo writes them next to its data files (``files/teams.yaml``, ``files/rules.yaml``) and
saves them through the same services as ``cxloop teams set`` and ``cxloop rules set``, so a
user can edit them and set them again. The rules are ``examples/loop/rules.yaml`` with a team
for each rule (the demo has no routing file: every case lands in a named team).
"""

from __future__ import annotations

TEAMS_YAML = """\
# 处理案例的团队 · teams that work cases: cxloop teams set teams.yaml
- name: 客服一组
  lead: chen.lead
  members:
    - {name: wang.fang, email: wang.fang@example.com}
    - {name: li.na, email: li.na@example.com}
    - {name: chen.lead, role: lead, email: chen.lead@example.com}
- name: 物流体验组
  lead: qian.lead
  members:
    - {name: zhao.min, email: zhao.min@example.com}
    - {name: sun.li, email: sun.li@example.com}
    - {name: qian.lead, role: lead, email: qian.lead@example.com}
"""

RULES_YAML = """\
# 告警规则 · alert rules: cxloop rules set rules.yaml (examples/loop/rules.yaml, teams named)
rules:
  - id: detractor-service
    name: 贬损者抱怨服务 · detractor unhappy with service
    when: nps_group == 'detractor' and aspect == 'service/*:negative'
    severity: high
    topic: matched
    team: 客服一组
    window_hours: 72

  - id: vip-delivery
    name: 高价值客户配送差评 · top-20 % customer, bad delivery
    when: aspect == 'delivery:negative' and value_percentile >= 80
    severity: high
    topic: matched
    team: 物流体验组

  - id: escalation
    name: 扬言投诉升级 · threatens to escalate
    when: flag == 'escalation'
    severity: 紧急
    team: 客服一组
    window_hours: 24

  - id: churn-intent
    name: 流失意向 · says they will leave
    when: flag == 'churn_intent' or (intent == 'complaint' and churn_risk >= 0.7)
    severity: high
    team: 客服一组

  - id: safety
    name: 安全问题 · safety issue
    when: flag == 'safety'
    severity: critical
    team: 客服一组
    window_hours: 24

  - id: any-detractor
    name: 所有贬损者 · every detractor
    when: nps <= 6
    severity: low
    enabled: false
"""

VIEWER = "guest"
"""A viewer login: reads cases with personal data masked and loop health; acts on nothing."""

HOLD_BACK_DAYS = 14
"""The demo's newest two weeks of feedback arrive after the rules are saved (about 290 rows,
18 of which open cases), so its cases come from its own feedback through the rules."""
