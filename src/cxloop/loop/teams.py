"""Stored teams and rosters: saved whole, read for routing (with each agent's open load), and
asked who belongs where (a user's memberships decide what they may do to a case)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.db.base import utcnow
from cxloop.errors import NotFound
from cxloop.loop import routing
from cxloop.loop.models import Case, Team, TeamMember
from cxloop.loop.schemas import MemberRead, TeamRead, TeamWrite
from cxloop.loop.states import OPEN


def save_team(*, session: Session, team_in: TeamWrite) -> TeamRead:
    """Create or update ``team_in.name`` and replace its roster (list order is roster order);
    members left out are removed, so a file of teams can be applied again and again."""
    now = utcnow()
    team = session.scalar(select(Team).where(Team.name == team_in.name))
    if team is None:
        team = Team(name=team_in.name, created_at=now)
        session.add(team)
    team.lead, team.sla_policy, team.updated_at = team_in.lead, team_in.sla_policy, now
    session.flush()
    stored = {
        m.user_name: m
        for m in session.scalars(select(TeamMember).where(TeamMember.team_id == team.id))
    }
    wanted = {m.name for m in team_in.members}
    for name, row in stored.items():
        if name not in wanted:
            session.delete(row)
    for position, member in enumerate(team_in.members):
        row = stored.get(member.name) or TeamMember(
            team_id=team.id, user_name=member.name, created_at=now
        )
        row.email, row.role, row.active, row.position = (
            member.email,
            member.role,
            member.active,
            position,
        )
        session.add(row)
    session.flush()
    return get_team(session=session, name=team.name)


def _loads(session: Session) -> dict[str, int]:
    """Open cases per owner, over every team (one person, one load)."""
    rows = session.execute(
        select(Case.owner, func.count())
        .where(Case.status.in_(OPEN), Case.owner.is_not(None))
        .group_by(Case.owner)
    )
    return {str(owner): int(count) for owner, count in rows}


def _members(session: Session) -> dict[int, list[TeamMember]]:
    out: dict[int, list[TeamMember]] = {}
    for row in session.scalars(
        select(TeamMember).order_by(TeamMember.team_id, TeamMember.position)
    ):
        out.setdefault(row.team_id, []).append(row)
    return out


def warnings_for(name: str, lead: str | None) -> list[str]:
    """What will go wrong with the team as it stands: saved anyway (a team may get its lead
    later), said wherever the team is saved or read."""
    if lead is None:
        return [f"team {name} has no lead: its escalations will reach nobody"]
    return []


def _read(team: Team, members: list[TeamMember], loads: dict[str, int]) -> TeamRead:
    return TeamRead(
        name=team.name,
        lead=team.lead,
        sla_policy=team.sla_policy,
        warnings=warnings_for(team.name, team.lead),
        members=[
            MemberRead(
                name=m.user_name,
                email=m.email,
                role=m.role,
                active=m.active,
                open_cases=loads.get(m.user_name, 0),
            )
            for m in members
        ],
    )


def list_teams(*, session: Session) -> list[TeamRead]:
    """Every team by name, with its roster and each member's open cases."""
    loads, members = _loads(session), _members(session)
    teams = session.scalars(select(Team).order_by(Team.name))
    return [_read(t, members.get(t.id, []), loads) for t in teams]


def team_names(session: Session) -> list[str]:
    return list(session.scalars(select(Team.name).order_by(Team.name)))


def get_team(*, session: Session, name: str) -> TeamRead:
    """One team, or ``NotFound`` naming the teams there are."""
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise NotFound(f"no team {name!r} (teams: {', '.join(team_names(session)) or 'none yet'})")
    return _read(team, _members(session).get(team.id, []), _loads(session))


def memberships(session: Session, user: str) -> dict[str, str]:
    """team → ``agent`` or ``lead`` for ``user``'s active memberships (a team's ``lead`` is a
    lead of it even when not on the roster)."""
    found: dict[str, str] = {}
    rows = session.execute(
        select(Team.name, TeamMember.role)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_name == user, TeamMember.active.is_(True))
    )
    for team, role in rows:
        found[team] = "lead" if role == "lead" or found.get(team) == "lead" else "agent"
    for team in session.scalars(select(Team.name).where(Team.lead == user)):
        found[team] = "lead"
    return found


def active_member(session: Session, team: str, user: str) -> bool:
    """Whether ``user`` is an active member (agent or lead) of ``team``."""
    return memberships(session, user).get(team) is not None


def roster(session: Session) -> list[routing.Team]:
    """Every team's agents in roster order with their open loads, as routing reads them
    (leads get no cases by routing; inactive agents are kept so the reason can name them)."""
    loads, members = _loads(session), _members(session)
    out = []
    for team in session.scalars(select(Team).order_by(Team.name)):
        agents = [
            routing.Member(name=m.user_name, open_cases=loads.get(m.user_name, 0), active=m.active)
            for m in members.get(team.id, [])
            if m.role == "agent"
        ]
        out.append(routing.Team(name=team.name, members=agents))
    return out


def last_assigned(session: Session) -> dict[str, str]:
    """team → the owner of its most recently routed case (where routing turns continue)."""
    latest = (
        select(func.max(Case.id))
        .where(Case.owner.is_not(None), Case.routing_via.is_not(None))
        .group_by(Case.team)
    )
    rows = session.execute(select(Case.team, Case.owner).where(Case.id.in_(latest)))
    return {str(team): str(owner) for team, owner in rows if team is not None}
