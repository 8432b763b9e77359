"""The starter plan: what most contact centers list, for an administrator to adapt rather than type from nothing.

Each function returns plain data in the language active when it is called (the language of whoever starts the
plan): the names are stored as text, so the plan stays in the language it was written in.
"""

from django.utils.translation import gettext as _

from ..models import ActivationTrigger, Procedure

# Keys that tie the lists below together; never shown.
COORDINATION, TELEPHONY, IT, HR, FACILITIES = "coordination", "telephony", "it", "hr", "facilities"


def teams() -> list[dict]:
    return [
        {"key": COORDINATION, "name": _("Plan coordination"),
         "responsibilities": _("Decides when the plan is activated, keeps everyone informed, tells customers what "
                               "to expect, and calls the end of the recovery.")},
        {"key": TELEPHONY, "name": _("Telephony and network"),
         "responsibilities": _("Carrier lines, routing, the IVR and the ACD: moves customer traffic to the backup "
                               "and back.")},
        {"key": IT, "name": _("IT"),
         "responsibilities": _("Desktops, email and web chat, the CRM and the other applications agents use.")},
        {"key": HR, "name": _("HR"),
         "responsibilities": _("Reaches staff, arranges shifts, travel and working from home, and looks after "
                               "people affected by the event.")},
        {"key": FACILITIES, "name": _("Facilities"),
         "responsibilities": _("The building, access, electrical power and the alternate site.")},
    ]


def critical_systems() -> list[dict]:
    return [
        {"name": _("Network services"), "team": TELEPHONY, "goal": 30,
         "failover": _("Two carriers on diverse routes; the carrier re-routes inbound numbers to the alternate "
                       "site."),
         "recovery": _("Ask the carrier to re-route the numbers; confirm test calls reach the alternate site."),
         "restoration": _("Once the primary route has carried test calls for an hour, route the numbers back.")},
        {"name": _("IVR"), "team": TELEPHONY, "goal": 15,
         "failover": _("The platform's BCP tenant answers with the same menus and messages."),
         "recovery": _("Switch to the BCP tenant on BC Enablement; play the outage message if needed."),
         "restoration": _("Switch back to the primary tenant and remove the outage message.")},
        {"name": _("ACD"), "team": TELEPHONY, "goal": 15,
         "failover": _("The BCP tenant routes contacts with the synced teams, skills and hours."),
         "recovery": _("Switch to the BCP tenant; check that queues fill and agents receive contacts."),
         "restoration": _("Switch back; check that no contact is left waiting in the BCP tenant's queues.")},
        {"name": _("Email and web chat"), "team": IT, "goal": 60,
         "failover": _("Chat and email entry points are synced to the BCP tenant."),
         "recovery": _("Confirm the chat widget and the mailboxes are answered on the BCP tenant."),
         "restoration": _("Move open conversations back and confirm the widget points at the primary.")},
        {"name": _("CRM and other applications"), "team": IT, "goal": 120,
         "failover": _("A read-only copy and a manual note-taking procedure for agents."),
         "recovery": _("Restore the application from its backup or fail over to the standby instance."),
         "restoration": _("Enter the notes taken meanwhile, then return agents to the usual screens.")},
        {"name": _("Electrical power"), "team": FACILITIES, "goal": 10,
         "failover": _("Uninterruptible power for the network room; a generator for the floor."),
         "recovery": _("Start the generator; send agents home to work remotely if it cannot carry the floor."),
         "restoration": _("Return to mains power and check the uninterruptible power supply recharges.")},
        {"name": _("IT support"), "team": IT, "goal": 60,
         "failover": _("An on-call rota and a second support provider."),
         "recovery": _("Call the on-call engineer; escalate to the second provider after 30 minutes."),
         "restoration": _("Hand open tickets back to the usual support desk.")},
        {"name": _("HR support"), "team": HR, "goal": 240,
         "failover": _("An up-to-date staff phone list kept off site."),
         "recovery": _("Reach every scheduled agent and arrange cover for the shifts affected."),
         "restoration": _("Return to the usual schedule and record the hours worked during the event.")},
        {"name": _("Physical facility"), "team": FACILITIES, "goal": 480,
         "failover": _("An alternate site, or agents working from home on the BCP tenant."),
         "recovery": _("Move agents to the alternate site or home; confirm they can sign in."),
         "restoration": _("Bring agents back once the building is safe and its systems are tested.")},
    ]


def procedures() -> list[dict]:
    return [
        {"kind": Procedure.Kind.DETECTION, "name": _("Detection, notification and escalation"),
         "description": _("How a failure is noticed and confirmed, and whom to tell, in which order."),
         "steps": [
             (_("Monitoring, an agent or a customer reports a failure; note the time and what fails."), TELEPHONY),
             (_("Confirm the failure and whether it affects one system, one site or the whole platform."), IT),
             (_("Call the plan coordinator; if there is no answer within 10 minutes, go down the emergency "
                "contacts in escalation order."), COORDINATION),
             (_("The coordinator decides whether an activation criterion is met and tells the teams to start the "
                "damage assessment."), COORDINATION),
         ]},
        {"kind": Procedure.Kind.DAMAGE, "name": _("Damage assessment"),
         "description": _("What is damaged, how long it will take to recover, and who hears the results."),
         "steps": [
             (_("Each responsible team checks its critical systems and reports what works and what does not."), IT),
             (_("Compare the expected recovery time with each system's recovery-time goal."), COORDINATION),
             (_("Decide on the backup arrangements to use now and on the long-term recovery."), COORDINATION),
             (_("Send the results to every team and agree when the next update follows."), COORDINATION),
         ]},
    ]


def triggers() -> list[dict]:
    return [
        {"name": _("Primary region outage"), "action": ActivationTrigger.Action.BC_ENABLEMENT,
         "criterion": _("The platform's primary region is down or degraded and contacts cannot be handled."),
         "instructions": _("Switch to the BCP tenant on BC Enablement; tell agents to sign in again.")},
        {"name": _("Site unavailable"), "action": ActivationTrigger.Action.PROCEDURE,
         "procedure": Procedure.Kind.DAMAGE,
         "criterion": _("The building cannot be used: no power, no access, or not safe."),
         "instructions": _("Start the damage assessment and move agents to the alternate site or home.")},
        {"name": _("Critical system down beyond its goal"), "action": ActivationTrigger.Action.PROCEDURE,
         "procedure": Procedure.Kind.DETECTION,
         "criterion": _("A critical system is still down when its recovery-time goal has passed."),
         "instructions": _("Escalate to the plan coordinator and follow the detection and escalation procedure.")},
    ]
