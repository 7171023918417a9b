"""Work-order permissions (leaf module: roles import these names).

Where a permission applies comes from the assignment's place (accounts.scoping); department
handlers and heads additionally act only on orders addressed to their own department.
"""

VIEW_ORDERS = "workorders.view_orders"  # see orders under one's places
REPORT = "workorders.report"  # file a report (residents, property managers, grid workers)
HANDLE_COMMITTEE = "workorders.handle_committee"  # 居委自治, escalation, errands, summons requests
PATROL = "workorders.patrol"  # grid worker: report, verify, check, settle on the spot
DISPATCH = "workorders.dispatch"  # street centre: send for verification/check, dispatch, refuse
SUPERVISE = "workorders.supervise"  # 值班长: register, approve returns/extensions, close, reopen
HANDLE_DEPARTMENT = "workorders.handle_department"  # sign for, return, suspend, feed back
# T13 延期: only the department's head (职能部门负责人) asks for more time.
REQUEST_EXTENSION = "workorders.request_extension"
DISTRICT_DISPATCH = "workorders.district_dispatch"  # district platform after 提级
MANAGE_ROUTING = "workorders.manage_routing"  # categories' time limits, routing rules, errands
MANAGE_CALENDAR = "workorders.manage_calendar"  # the working calendar
