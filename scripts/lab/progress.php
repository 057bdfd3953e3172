<?php
// moodle-lab: real participant progress, from a plan that scripts/simulate_progress.py computes (the same plan
// drives the sandbox), then Moodle's own course-completion task.
//
// php progress.php --plan=FILE
//   FILE: {"events": [{"type": "access"|"activity"|"quiz"|"grade", "courseid": N, "userid": N,
//                      "idnumber": "<activity idnumber>", "correct": K (quiz: right answers of 10), "time": T}]}
//
// access: the user's course access (user_lastaccess, as Moodle keeps it, and a course_viewed event);
// activity: the user completes it as a person would: views a page that completes on view, ticks one completed
// by hand, submits online text to an assignment (a course without that idnumber skips the event);
// quiz: a real attempt answering K of the ten questions right, submitted and graded;
// grade: a facilitator overrides the user's grade ("grade": G) on the grade item with that idnumber.
// Written for moodle_sync's test lab.

define('CLI_SCRIPT', true);
require(getenv('MOODLE_LAB_WWW') . '/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->libdir . '/testing/generator/lib.php');
require_once($CFG->libdir . '/completionlib.php');
require_once($CFG->dirroot . '/mod/quiz/locallib.php');
require_once($CFG->dirroot . '/mod/assign/locallib.php');
require_once($CFG->libdir . '/gradelib.php');

[$options] = cli_get_params(['plan' => '']);
set_exception_handler(function (Throwable $e) { fwrite(STDERR, get_class($e) . ": " . $e->getMessage() . "\n" . $e->getTraceAsString() . "\n"); exit(1); });
$plan = json_decode(file_get_contents($options['plan']), true, 512, JSON_THROW_ON_ERROR);
$generator = new testing_data_generator();
$quizzes = $generator->get_plugin_generator('mod_quiz');
$assigns = $generator->get_plugin_generator('mod_assign');

/** The course module with this idnumber in the course. */
function lab_cm(int $courseid, string $idnumber, bool $must = true): ?cm_info {
    static $cache = [];
    $key = "$courseid/$idnumber";
    if (!isset($cache[$key])) {
        foreach (get_fast_modinfo($courseid)->get_cms() as $cm) {
            if ($cm->idnumber === $idnumber) {
                $cache[$key] = $cm;
            }
        }
        if (!isset($cache[$key]) && $must) {
            throw new coding_exception("course $courseid has no activity with idnumber $idnumber");
        }
    }
    return $cache[$key] ?? null;
}

function lab_access(int $courseid, int $userid, int $time): void {
    global $DB;
    $row = $DB->get_record('user_lastaccess', ['userid' => $userid, 'courseid' => $courseid]);
    if ($row) {
        $DB->set_field('user_lastaccess', 'timeaccess', max($time, (int) $row->timeaccess), ['id' => $row->id]);
    } else {
        $DB->insert_record('user_lastaccess', (object) ['userid' => $userid, 'courseid' => $courseid, 'timeaccess' => $time]);
    }
    $user = $DB->get_record('user', ['id' => $userid], 'id, firstaccess, lastaccess', MUST_EXIST);
    $DB->update_record('user', (object) ['id' => $userid, 'firstaccess' => $user->firstaccess ?: $time,
        'lastaccess' => max($time, (int) $user->lastaccess), 'currentlogin' => $time]);
    \core\event\course_viewed::create(['context' => context_course::instance($courseid)])->trigger();
}

$counts = [];
foreach ($plan['events'] as $n => $event) {
    $courseid = (int) $event['courseid'];
    $userid = (int) $event['userid'];
    $time = (int) ($event['time'] ?? time());
    \core\session\manager::set_user(core_user::get_user($userid, '*', MUST_EXIST));
    switch ($event['type']) {
        case 'access':
            lab_access($courseid, $userid, $time);
            break;
        case 'activity':
            $cm = lab_cm($courseid, $event['idnumber'], false);
            if (!$cm) {
                $counts['skipped'] = ($counts['skipped'] ?? 0) + 1;
                continue 2;
            }
            $completion = new completion_info(get_course($courseid));
            if ($cm->modname === 'assign') {
                $assigns->create_submission(['userid' => $userid, 'cmid' => $cm->id, 'onlinetext' => '<p>Tugas selesai.</p>']);
            } else if ($cm->completion == COMPLETION_TRACKING_MANUAL) {
                $completion->update_state($cm, COMPLETION_COMPLETE, $userid);
            } else {
                $completion->set_module_viewed($cm, $userid);
            }
            break;
        case 'quiz':
            $cm = lab_cm($courseid, $event['idnumber']);
            $attempt = $quizzes->create_attempt($cm->instance, $userid);
            $attemptobj = \mod_quiz\quiz_attempt::create($attempt->id);
            $postdata = [];
            foreach ($attemptobj->get_slots() as $slot) {
                $qa = $attemptobj->get_question_attempt($slot);
                $postdata[$qa->get_control_field_name('sequencecheck')] = (string) $qa->get_sequence_check_count();
                $postdata[$qa->get_qt_field_name('answer')] = $slot <= (int) $event['correct'] ? '1' : '0';
            }
            $attemptobj->process_submitted_actions($time, false, $postdata);
            $attemptobj->process_finish($time, false);
            break;
        case 'grade':
            // A facilitator overrides the grade in the gradebook (and so opened the course).
            $item = grade_item::fetch(['courseid' => $courseid, 'idnumber' => $event['idnumber']]);
            if (!$item) {
                throw new coding_exception("course $courseid has no grade item with idnumber {$event['idnumber']}");
            }
            \core\session\manager::set_user(get_admin());
            $item->update_final_grade($userid, (float) $event['grade'], 'gradebook', false, FORMAT_MOODLE, get_admin()->id);
            lab_access($courseid, (int) get_admin()->id, $time);
            break;
        default:
            throw new coding_exception("event $n: unknown type {$event['type']}");
    }
    $counts[$event['type']] = ($counts[$event['type']] ?? 0) + 1;
}
\core\session\manager::set_user(get_admin());
(new \core\task\completion_regular_task())->execute();
ksort($counts);
echo json_encode(['events' => count($plan['events']), 'by_type' => $counts]) . "\n";
