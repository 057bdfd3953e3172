<?php
// moodle-lab: build the master course of every shipped template, idempotently, the same content as the
// sandbox's (moodle_sync/sandbox/seed.py), so a scenario gives the same numbers on both.
//
// php masters.php --masters=FILE     FILE: [{"idnumber": "MASTER-KODING", "fullname": ..., "topics": [...]}, ...]
//
// Each master: category "Master" (idnumber MASTER); section 1 "Pendahuluan" with a page `panduan` (complete on
// view) and a quiz `pretest`; one section per topic with a page `materi-N` and an assignment `tugas-N` (complete
// on submission, grade 100); a last section "Penutup dan Evaluasi" with a quiz `posttest` and a page `refleksi`
// (completed by hand). Quizzes hold ten true/false questions of one mark (grade out of 10) and complete on
// receiving a grade. Course completion: every activity above. Written for moodle_sync's test lab.

define('CLI_SCRIPT', true);
require(getenv('MOODLE_LAB_WWW') . '/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->libdir . '/testing/generator/lib.php');
require_once($CFG->dirroot . '/course/lib.php');
require_once($CFG->dirroot . '/mod/quiz/locallib.php');
require_once($CFG->libdir . '/completionlib.php');
require_once($CFG->libdir . '/questionlib.php');
require_once($CFG->dirroot . '/completion/criteria/completion_criteria_activity.php');

[$options] = cli_get_params(['masters' => '']);
set_exception_handler(function (Throwable $e) { fwrite(STDERR, get_class($e) . ": " . $e->getMessage() . "\n" . $e->getTraceAsString() . "\n"); exit(1); });
$masters = json_decode(file_get_contents($options['masters']), true, 512, JSON_THROW_ON_ERROR);

\core\session\manager::set_user(get_admin());
$generator = new testing_data_generator();

$category = $DB->get_record('course_categories', ['idnumber' => 'MASTER']);
if (!$category) {
    $category = core_course_category::create(['name' => 'Master', 'idnumber' => 'MASTER',
        'description' => 'Kursus induk untuk diimpor ke setiap angkatan.'])->get_db_record();
}

/** A quiz of ten one-mark true/false questions ("True" is right), graded out of 10. */
function lab_quiz(testing_data_generator $generator, stdClass $course, int $section, string $name, string $idnumber): stdClass {
    $quiz = $generator->create_module('quiz', [
        'course' => $course->id, 'section' => $section, 'name' => $name, 'idnumber' => $idnumber,
        'grade' => 10, 'sumgrades' => 10, 'attempts' => 0, 'preferredbehaviour' => 'deferredfeedback',
        'completion' => COMPLETION_TRACKING_AUTOMATIC, 'completionusegrade' => 1,
    ]);
    // Moodle's question generator needs PHPUnit: save the questions the way the question form does.
    $context = context_module::instance($quiz->cmid);
    $qcategory = question_make_default_categories([$context]);
    $qtype = question_bank::get_qtype('truefalse');
    $html = fn (string $text) => ['text' => $text, 'format' => FORMAT_HTML];
    for ($n = 1; $n <= 10; $n++) {
        $question = $qtype->save_question((object) ['qtype' => 'truefalse'], (object) [
            'category' => "{$qcategory->id},{$context->id}", 'name' => "$name $n", 'defaultmark' => 1, 'penalty' => 1,
            'questiontext' => $html("<p>$name, pernyataan $n: pernyataan ini benar.</p>"), 'generalfeedback' => $html(''),
            'correctanswer' => 1, 'feedbacktrue' => $html(''), 'feedbackfalse' => $html(''), 'showstandardinstruction' => 0,
            'status' => \core_question\local\bank\question_version_status::QUESTION_STATUS_READY,
        ]);
        quiz_add_quiz_question($question->id, $quiz, 0, 1);
    }
    \mod_quiz\quiz_settings::create($quiz->id)->get_grade_calculator()->recompute_quiz_sumgrades();
    return $quiz;
}

function lab_master(testing_data_generator $generator, int $categoryid, array $spec): void {
    global $DB;
    if ($DB->record_exists('course', ['idnumber' => $spec['idnumber']])) {
        return;
    }
    $transaction = $DB->start_delegated_transaction(); // a master is made whole or not at all
    $topics = $spec['topics'];
    $course = $generator->create_course([
        'category' => $categoryid, 'fullname' => $spec['fullname'], 'shortname' => $spec['idnumber'],
        'idnumber' => $spec['idnumber'], 'numsections' => count($topics) + 2, 'enablecompletion' => 1,
        'summary' => '<p>Kursus induk ' . preg_replace('/^Master: /', '', $spec['fullname']) . '.</p>',
        'format' => 'topics',
    ], ['createsections' => true]);
    $names = array_merge(['Pendahuluan'], $topics, ['Penutup dan Evaluasi']);
    foreach ($names as $i => $name) {
        $section = $DB->get_record('course_sections', ['course' => $course->id, 'section' => $i + 1], '*', MUST_EXIST);
        course_update_section($course, $section, ['name' => $name, 'summary' => "<p>$name</p>"]);
    }
    $page = fn (int $section, string $name, string $idnumber, array $completion) => $generator->create_module('page',
        ['course' => $course->id, 'section' => $section, 'name' => $name, 'idnumber' => $idnumber,
         'content' => "<p>$name</p>"] + $completion);
    $onview = ['completion' => COMPLETION_TRACKING_AUTOMATIC, 'completionview' => 1];
    $tracked = [];
    $tracked[] = $page(1, 'Panduan Program', 'panduan', $onview)->cmid;
    $tracked[] = lab_quiz($generator, $course, 1, 'Pretest', 'pretest')->cmid;
    foreach ($topics as $n => $topic) {
        $tracked[] = $page($n + 2, "Materi: $topic", 'materi-' . ($n + 1), $onview)->cmid;
        $tracked[] = $generator->create_module('assign', [
            'course' => $course->id, 'section' => $n + 2, 'name' => "Tugas: $topic", 'idnumber' => 'tugas-' . ($n + 1),
            'grade' => 100, 'submissiondrafts' => 0, 'assignsubmission_onlinetext_enabled' => 1,
            'completion' => COMPLETION_TRACKING_AUTOMATIC, 'completionsubmit' => 1,
        ])->cmid;
    }
    $last = count($topics) + 2;
    $tracked[] = lab_quiz($generator, $course, $last, 'Posttest', 'posttest')->cmid;
    $tracked[] = $page($last, 'Refleksi Pembelajaran', 'refleksi', ['completion' => COMPLETION_TRACKING_MANUAL])->cmid;

    $criterion = new completion_criteria_activity();
    $config = (object) ['id' => $course->id, 'criteria_activity' => array_fill_keys($tracked, 1)];
    $criterion->update_config($config);
    $aggregation = new completion_aggregation(['course' => $course->id, 'criteriatype' => null]);
    $aggregation->setMethod(COMPLETION_AGGREGATION_ALL);
    $aggregation->save();
    $transaction->allow_commit();
    echo "master {$spec['idnumber']}: course {$course->id}, " . count($tracked) . " tracked activities\n";
}

foreach ($masters as $spec) {
    lab_master($generator, (int) $category->id, $spec);
}
